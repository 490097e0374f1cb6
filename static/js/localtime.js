// A due date in the reader's own time, beside the class's: `<time data-local
// data-zone="Europe/London" datetime="…+00:00">` gains "— 18:00 your time
// (Europe/Paris)" when the reader's clock says something else. Without
// JavaScript the page gives the class's time, and names its zone.

const readerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const parts = (zone) => ({
  day: new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, weekday: "short", day: "numeric", month: "short",
  }),
  time: new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }),
});

function inZone(moment, zone) {
  const format = parts(zone);
  return { day: format.day.format(moment).replace(",", ""), time: format.time.format(moment) };
}

for (const element of document.querySelectorAll("time[data-local][data-zone]")) {
  const moment = new Date(element.getAttribute("datetime"));
  if (Number.isNaN(moment.getTime()) || !readerZone) continue;
  let classTime;
  try {
    classTime = inZone(moment, element.dataset.zone);
  } catch {
    continue; // a zone this browser does not know: the class's time alone is right
  }
  const readerTime = inZone(moment, readerZone);
  // Another name for the same clock (Europe/Lisbon beside Europe/London in winter) adds nothing.
  if (readerTime.day === classTime.day && readerTime.time === classTime.time) continue;
  const when = readerTime.day === classTime.day
    ? readerTime.time
    : `${readerTime.day}, ${readerTime.time}`;
  const local = document.createElement("span");
  local.className = "local-time";
  local.textContent = ` — ${when} your time (${readerZone})`;
  // After the zone's name where the page gives one, so that the two read in order.
  const after = element.nextElementSibling?.classList.contains("time-zone")
    ? element.nextElementSibling
    : element;
  after.after(local);
}
