// Runs `npm ci` when node_modules is missing or older than package-lock.json, so repeated builds stay fast.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const installed = 'node_modules/.package-lock.json';
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync('package-lock.json').mtimeMs) {
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
