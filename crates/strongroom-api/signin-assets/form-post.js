// Submits the form that hands an authorization code back to a native client
// (response_mode=form_post). Without script, the form's own "Continue" button does the same.
"use strict";
const form = document.getElementById("form-post");
if (form) {
  form.submit();
}
