// The page: one overlay member (src/peer) exposed as `window.ipop`, and the UI (src/ui) drawn over it.
import { createConsole } from "./peer/console.js";
import { mountUi } from "./ui/mount.js";

const api = createConsole();
window.ipop = api;
const root = document.getElementById("app");
if (root) mountUi(root, api);
