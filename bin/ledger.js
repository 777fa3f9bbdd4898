#!/usr/bin/env node
// The `ledger` command: a launcher for the compiled CLI (apps/cli), so `npx ledger …` works after a build.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(main)) {
  console.error('ledger: the CLI is not built yet: run npm run build first');
  process.exit(1);
}
void require(main).runCli(process.argv);
