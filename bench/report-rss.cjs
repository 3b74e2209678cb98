// Preloaded (`node --require`) into a process bench/import.ts times: prints its peak resident
// memory (KiB, process.resourceUsage().maxRSS) as the last line on stderr when it exits.
'use strict';
process.on('exit', () => process.stderr.write(`kauth-bench: maxRSS ${process.resourceUsage().maxRSS}\n`));
