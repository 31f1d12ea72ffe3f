/**
 * Test fixture: builds a lab, prints `ready <nsPrefix>`, then waits to be signalled; with `--crash`
 * it throws an uncaught error instead. Lets a test check that labs are torn down on SIGINT/SIGTERM
 * and on a crash, without a test runner's own handlers in the way.
 */
import { Lab } from "../netns.js";

const lab = await Lab.create({ hosts: 2 });
// A tracked process, so the test can also see that it is killed.
const proc = lab.spawn("h1", ["sleep", "300"]);
console.log(`ready ${lab.nsPrefix} ${proc.pid}`);
if (process.argv.includes("--crash")) {
  setTimeout(() => {
    throw new Error("fixture crash");
  }, 10);
} else {
  setInterval(() => {}, 60_000);
}
