// The sign-in card: sign in, or create an account (and confirm it with the e-mailed code when
// the stage asks for one), then hand over to the app.

import { confirmSignUp, signIn, signUp } from "./cognito.js";
import { $ } from "./dom.js";

/** Wire the card; `enterApp` runs once signed in. */
export function bindSignIn(enterApp) {
  let signingUp = false;
  $("signin-toggle").addEventListener("click", () => {
    signingUp = !signingUp;
    $("signup-fields").hidden = !signingUp;
    $("signin-submit").textContent = signingUp ? "Create account" : "Sign in";
    $("signin-toggle").textContent = signingUp ? "Have an account? Sign in" : "New here? Create an account";
    $("password").autocomplete = signingUp ? "new-password" : "current-password";
  });
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    const username = $("username").value.trim();
    const password = $("password").value;
    try {
      if (!$("confirm-fields").hidden) {
        await confirmSignUp(username, $("code").value.trim());
      } else if (signingUp && !await signUp(username, password, $("email").value.trim())) {
        $("confirm-fields").hidden = false;
        $("signin-submit").textContent = "Confirm";
        $("code").focus();
        return;
      }
      await signIn(username, password);
      await enterApp();
    } catch (error) {
      $("signin-error").textContent = error.message;
    }
  });
}
