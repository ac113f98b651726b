#!/usr/bin/env node
// The `fer` command: data tools, doctor, training, evaluation and reports.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../packages/fer/src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
