// Real-user monitoring (CloudWatch RUM), only where config.json carries a `rum` block: a stage
// deployed with `rum: true` (docs/DEPLOY.md). Without it (every stage by default, and the local
// stack) main.js does not even import this module: no script, no global, no request.
//
// It does what AWS's RUM snippet does, from a module instead of an inline script (the CSP
// allows none): queue commands on `window.cwr`, hand the app monitor's settings over in
// `window.AwsRumClient`, and load the pinned RUM web client (config `scriptUrl`, whose origin
// the CSP allows only on such a stage), with its SRI hash when the stage sets one.

/** The global command queue the RUM web client reads (dynamotalk/rum.py RUM_NAMESPACE). */
const NAMESPACE = "cwr";

/** Start RUM as config.json says; returns whether it did. */
export function startRum(config) {
  const rum = config && config.rum;
  if (!rum) return false;
  const client = {
    q: [],
    n: NAMESPACE,
    i: rum.appMonitorId,
    v: rum.version,
    r: rum.region,
    c: {
      sessionSampleRate: rum.sessionSampleRate,
      identityPoolId: rum.identityPoolId,
      guestRoleArn: rum.guestRoleArn,
      endpoint: rum.endpoint,
      telemetries: rum.telemetries,
      allowCookies: rum.allowCookies,
      recordResourceUrl: rum.recordResourceUrl,
      enableXRay: false,
    },
  };
  window.AwsRumClient = client;
  window[NAMESPACE] = (command, payload) => client.q.push({ c: command, p: payload });
  const script = document.createElement("script");
  script.async = true;
  script.src = rum.scriptUrl;
  if (rum.scriptIntegrity) {
    script.integrity = rum.scriptIntegrity;
    script.crossOrigin = "anonymous";
  }
  document.head.append(script);
  return true;
}
