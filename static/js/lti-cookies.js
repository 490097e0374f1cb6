// The first page of a launch from an LMS, inside the LMS's frame: when the browser
// keeps the site's cookies there, go on to the LMS's sign-in; when it blocks them,
// offer a new tab, where the launch starts again at the top level.

const page = document.querySelector(".lti-cookie-check");
if (page) {
  const probe = "lti_cookie_probe=1";
  document.cookie = `${probe}; path=/; max-age=60; SameSite=None; Secure; Partitioned`;
  if (navigator.cookieEnabled && document.cookie.includes(probe)) {
    window.location.replace(page.dataset.authUrl);
  } else {
    page.querySelector(".lti-checking").hidden = true;
    page.querySelector(".lti-blocked").hidden = false;
  }
}
