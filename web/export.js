// "Export my data" (issue 18): ask for an archive, wait for the job (GET its status every
// POLL_MS, at most POLL_LIMIT times), then show the short-lived download link. docs/PROTOCOL.md
// "Exporting your data".

import { api } from "./api.js";
import { $, toast } from "./dom.js";

const POLL_MS = 1500;
const POLL_LIMIT = 200; // five minutes: data_export's timeout

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function exportData() {
  const button = $("export-data");
  const link = $("export-link");
  button.disabled = true;
  link.hidden = true;
  try {
    const { exportId } = await api("POST", "/me/exports");
    button.textContent = "Export: preparing…";
    for (let n = 0; n < POLL_LIMIT; n += 1) {
      const job = await api("GET", `/me/exports/${encodeURIComponent(exportId)}`);
      if (job.status === "ready") {
        link.href = job.url;
        link.hidden = false;
        const until = new Date(job.expiresAt).toLocaleTimeString();
        link.textContent = `Download my data (until ${until})`;
        return;
      }
      if (job.status === "failed") throw new Error("the export failed; try again later");
      await pause(POLL_MS);
    }
    throw new Error("the export is taking long; try again later");
  } catch (error) {
    toast(error.message);
  } finally {
    button.disabled = false;
    button.textContent = "Export my data";
  }
}

export function bindExport() {
  $("export-data").addEventListener("click", exportData);
}
