// A model in Node.js. hypermax writes the parameters as JSON on stdin (and into the file named
// by HYPERMAX_PARAMS_FILE); the last line of stdout that is a JSON object is the result.
const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const params = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  console.log(`training with ${JSON.stringify(params)}`); // goes to the trial's log
  const { learning_rate: rate, layers } = params;
  const accuracy = 0.97 - Math.abs(Math.log10(rate) + 2.5) * 0.05 - Math.abs(layers.length - 2) * 0.02
    - layers.reduce((sum, layer) => sum + Math.abs(layer.units - 64) / 6400, 0);
  console.log(JSON.stringify({ accuracy, layers: layers.length }));
});
