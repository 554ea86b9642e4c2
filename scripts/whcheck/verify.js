// Reads [{secret, headers, body}] as JSON on stdin and prints, for each,
// {ok, error, payload}: whether the Standard Webhooks reference library
// for JavaScript accepts the signature (and the timestamp's tolerance).
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map(({ secret, headers, body }) => {
    try {
      const payload = new Webhook(secret).verify(body, headers);
      return { ok: true, payload };
    } catch (e) {
      return { ok: false, error: String(e.message || e) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
