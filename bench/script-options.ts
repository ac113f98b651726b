// Options of the bench suites that run as stand-alone scripts: each script parses its own
// command line with these, and `npm run bench` (args.ts) routes options to the scripts that
// take them. No imports, so a script loads nothing else to read them.
export const SCRIPT_OPTIONS = {
  'stream-decode': { rounds: { type: 'string', default: '5' } },
  'stream-roundtrip': {
    seconds: { type: 'string', default: '15' },
    clients: { type: 'string', default: '1,10' },
    transport: { type: 'string', default: 'uws' },
    fps: { type: 'string', default: '30' },
  },
} as const satisfies Record<string, Record<string, { type: 'string'; default: string }>>;

export type ScriptSuite = keyof typeof SCRIPT_OPTIONS;
