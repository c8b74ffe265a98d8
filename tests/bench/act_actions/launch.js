// The runner starts a JavaScript action with `node`; this hands the work to the stand-in's Python half
// (stdlib only), which reads the same INPUT_* variables and runner files the real action's code would.
const { spawnSync } = require("child_process");
const path = require("path");

const action = path.basename(__dirname);
const phase = process.argv[2] || "main";
const done = spawnSync("python3", [path.join(__dirname, "standins.py"), action, phase], { stdio: "inherit" });
process.exit(done.status === null ? 1 : done.status);
