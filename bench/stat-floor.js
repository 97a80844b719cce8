// node bench/stat-floor.js DIR: lists DIR and stats every file in it, and nothing else. The bench
// times it as the floor under any no-change check written for Node: a process start plus one
// stat per post is the least work that can tell that no post changed.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
let newest = 0;
for (const name of readdirSync(dir)) newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
if (!newest) process.exitCode = 1;
