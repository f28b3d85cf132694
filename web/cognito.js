// Sign-up, sign-in and token refresh with Cognito's JSON API (config.json `cognitoUrl`).
// Tokens stay in memory (store.session) and are refreshed two minutes before they expire; each
// fresh token renews the socket's session too, since the server closes a socket at its `exp`.

import { toast } from "./dom.js";
import { close, send } from "./socket.js";
import { actions, session } from "./store.js";

const REFRESH_LEAD_MS = 120_000;

async function cognito(action, body) {
  const reply = await fetch(session.config.cognitoUrl, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) {
    const kind = (data.__type || "Error").split("#").pop();
    throw new Error(friendlyCognitoError(kind, data.message));
  }
  return data;
}

function friendlyCognitoError(kind, message) {
  const known = {
    NotAuthorizedException: "Wrong username or password.",
    UserNotFoundException: "Wrong username or password.",
    UsernameExistsException: "That username is taken.",
    // The stage's policy decides (8 characters on dev, 12 on prod): say what Cognito said.
    InvalidPasswordException: `Password too weak: ${(message || "").replace(/^.*policy: /, "")}`,
    CodeMismatchException: "That code is not right.",
    UserNotConfirmedException: "Confirm your account with the code we sent first.",
  };
  return known[kind] || message || kind;
}

function keepTokens(result) {
  const idToken = result.IdToken;
  const payload = JSON.parse(atob(idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  session.tokens = {
    idToken,
    refreshToken: result.RefreshToken || session.tokens?.refreshToken,
    expiresAt: payload.exp * 1000,
  };
  clearTimeout(session.refreshTimer);
  // Refresh two minutes before expiry so requests never carry a dead token, and renew the
  // socket's session with the fresh token: the server closes a socket when its token expires.
  const wait = Math.max(5_000, session.tokens.expiresAt - Date.now() - REFRESH_LEAD_MS);
  session.refreshTimer = setTimeout(refreshTokens, wait);
  if (result.renewSocket) send({ action: actions.Reauth, token: idToken });
}

let refreshing = null;

/** Fresh tokens from the refresh token; true when renewed. Callers at the same moment share
 * one refresh. A refused refresh token ends the session: the page returns to sign-in. */
export function refreshTokens() {
  refreshing ??= renew().finally(() => { refreshing = null; });
  return refreshing;
}

async function renew() {
  if (!session.tokens?.refreshToken) return false;
  try {
    const data = await cognito("InitiateAuth", {
      ClientId: session.config.userPoolClientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: session.tokens.refreshToken },
    });
    keepTokens({ ...data.AuthenticationResult, renewSocket: true });
    return true;
  } catch (error) {
    toast(`Session expired: ${error.message}`);
    signOut();
    return false;
  }
}

export async function signIn(username, password) {
  const data = await cognito("InitiateAuth", {
    ClientId: session.config.userPoolClientId,
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  keepTokens(data.AuthenticationResult);
}

/** Create the account; true when it is confirmed already (else a code was sent). */
export async function signUp(username, password, email) {
  const answer = await cognito("SignUp", {
    ClientId: session.config.userPoolClientId, Username: username, Password: password,
    UserAttributes: [{ Name: "email", Value: email }],
  });
  return answer.UserConfirmed;
}

export async function confirmSignUp(username, code) {
  await cognito("ConfirmSignUp", { ClientId: session.config.userPoolClientId, Username: username, ConfirmationCode: code });
}

export function signOut() {
  session.tokens = null;
  close();
  location.reload();
}
