// Inside an LMS's frame, the pages that are never framed (the admin, the account
// pages, a class's settings and join links: annotate/lti/framing.py) open in a tab of
// their own instead of breaking the frame.
const FRAMED = /^\/(?:$|lti\/|texts\/|activity\/$|posts\/\d+\/(?:$|edit\/|delete\/|report\/)|classes\/(?:$|[^/]+\/(?:$|texts\/|gradebook\/$|roster\/|lms\/|readings\/(?:new|uploads)\/)))/;

if (window.top !== window) {
  for (const link of document.querySelectorAll("a[href]")) {
    const url = new URL(link.href, location.href);
    if (url.origin === location.origin && !FRAMED.test(url.pathname)) {
      link.target = "_blank";
      link.rel = "noopener";
    }
  }
}
