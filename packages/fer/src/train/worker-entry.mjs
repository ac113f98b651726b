// Worker threads do not inherit the parent's module loader: register tsx here first.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
