#!/usr/bin/env node
import { main } from '../dist/main.js';

// a command may set its own exit code (train stopped by Ctrl-C: 130); errors override it
process.exitCode = (await main(process.argv)) || process.exitCode || 0;
