#!/usr/bin/env node
// The obsdlab command: runs the TypeScript sources through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../orchestrator/src/cli.ts');
