#!/usr/bin/env node
// Runs the built CLI (npm ci builds it through the prepare script); from a
// checkout that was not built, runs the TypeScript sources through tsx.
const fs = require('node:fs');
const path = require('node:path');
const built = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (fs.existsSync(built)) {
  require(built).main(process.argv);
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'main.ts')).main(process.argv);
}
