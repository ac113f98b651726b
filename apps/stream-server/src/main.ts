// `npm run server` / `npm start`: the stream server with the shipped models.
import { configFromArgs, describe, HELP } from './cli.ts';
import { startStreamServer, type StreamServer } from './server.ts';
import type { ServerConfig } from './config.ts';

async function main(argv: string[]): Promise<number> {
  let config: ServerConfig | 'help';
  try {
    config = configFromArgs(argv);
  } catch (err) {
    console.error(`stream-server: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (config === 'help') {
    console.log(HELP);
    return 0;
  }
  let server: StreamServer;
  try {
    server = await startStreamServer(config);
  } catch (err) {
    console.error(`stream-server: ${(err as Error).message}`);
    return 1;
  }
  for (const line of describe(server)) console.log(line);
  return new Promise<number>((resolveExit) => {
    const stop = (signal: string) => {
      console.log(`[server] ${signal}: stopping (finishing in-flight frames)`);
      server.shutdown(`server stopping (${signal})`).then(
        () => resolveExit(0),
        (err: unknown) => {
          console.error(`stream-server: shutdown failed: ${(err as Error).message}`);
          resolveExit(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

process.exitCode = await main(process.argv.slice(2));
