// The action's post step (run by the runner at the end of the job).
process.argv[2] = "post";
require("./launch.js");
