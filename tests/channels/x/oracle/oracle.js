// Answers, for each text of the JSON array on stdin, what twitter-text 3.1.0 says of it:
// parseTweet (config v3, X's) and extractUrlsWithIndices. Usage: node oracle.js NODE_MODULES_DIR
const path = require('path');
const twttr = require(path.join(process.argv[2], 'twitter-text'));

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const answers = JSON.parse(input).map((text) => ({
    parsed: twttr.parseTweet(text, twttr.configs.version3),
    urls: twttr.extractUrlsWithIndices(text).map(({ url, indices }) => [url, indices]),
  }));
  process.stdout.write(JSON.stringify(answers));
});
