// Prints the playlist read on stdin as m3u8-parser's manifest, in JSON.
const { Parser } = require('m3u8-parser');
let text = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { text += chunk; });
process.stdin.on('end', () => {
  const parser = new Parser();
  const warnings = [];
  parser.on('warn', (w) => warnings.push(w.message));
  parser.push(text);
  parser.end();
  process.stdout.write(JSON.stringify({ manifest: parser.manifest, warnings }));
});
