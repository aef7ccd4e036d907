// The X emulator's counter: one JSON string a line on stdin, one line of twitter-text 3.1.0's
// parseTweet (config v3, X's) on stdout. Usage: node x_counting.js NODE_MODULES_DIR
const path = require('path');
const readline = require('readline');
const twttr = require(path.join(process.argv[2], 'twitter-text'));

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const parsed = twttr.parseTweet(JSON.parse(line), twttr.configs.version3);
  process.stdout.write(JSON.stringify(parsed) + '\n');
});
