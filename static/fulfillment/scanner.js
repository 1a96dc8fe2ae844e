/*
 * Keyboard-wedge scanning for the warehouse screens (pick list, packing station).
 *
 * A wedge scanner types the code and presses Enter. In a form marked
 * `data-scan-form`, the inputs marked `.scan-step` are filled in order: Enter in one
 * moves to the next step that is shown; Enter in the last one submits the form (HTMX).
 * A step with `data-lookup-url` asks the server what was scanned while the next step is
 * filled; an answer holding `.scan-miss` is a refusal.
 *
 * The server is the authority: it answers a submit with the form again, marked
 * `.has-errors` when the service refused the scan. A refusal flashes the screen red,
 * sounds a low buzz and selects the input to re-scan; a confirmed scan sounds a short
 * high beep. `data-shortcut-key` on a button (e.g. "F4") presses it from the keyboard.
 */
(function () {
  "use strict";

  var audio = null;

  function tone(frequency, seconds, type, volume) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = type;
      oscillator.frequency.value = frequency;
      gain.gain.value = volume;
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + seconds);
    } catch (error) {
      /* no audio output: the visual cue still shows */
    }
  }

  function beepError() {
    tone(180, 0.35, "square", 0.08);
    document.body.dataset.lastCue = "error";
  }

  function beepOk() {
    tone(1046, 0.08, "sine", 0.05);
    document.body.dataset.lastCue = "ok";
  }

  function restartAnimation(element, className) {
    element.classList.remove(className);
    void element.offsetWidth; // reflow, so the animation runs again
    element.classList.add(className);
  }

  function steps(form) {
    return Array.prototype.filter.call(form.querySelectorAll(".scan-step"), function (input) {
      return !input.disabled && input.offsetParent !== null;
    });
  }

  function focusStep(input) {
    if (!input) return;
    input.focus();
    if (typeof input.select === "function") input.select();
  }

  function reject(form, input) {
    restartAnimation(form, "scan-failed");
    restartAnimation(document.body, "scan-flash");
    beepError();
    focusStep(input || form.querySelector(".scan-step.has-error-input") || steps(form)[0]);
  }

  function nextStep(form, current) {
    var all = steps(form);
    var index = all.indexOf(current);
    return index >= 0 && index + 1 < all.length ? all[index + 1] : null;
  }

  function lookup(form, input) {
    var url = input.dataset.lookupUrl;
    var target = form.querySelector(input.dataset.lookupTarget || ".scan-hint");
    if (!url || !target || !window.htmx) return;
    var separator = url.indexOf("?") >= 0 ? "&" : "?";
    htmx
      .ajax("GET", url + separator + "code=" + encodeURIComponent(input.value.trim()), {
        target: target,
        swap: "innerHTML",
      })
      .then(function () {
        if (target.querySelector(".scan-miss")) reject(form, input);
      });
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key === "Enter" && input.matches && input.matches("[data-scan-form] .scan-step")) {
      var form = input.closest("[data-scan-form]");
      event.preventDefault();
      if (!input.value.trim() && !input.matches("[data-may-be-empty]")) return;
      if (input.tagName === "TEXTAREA" && !event.ctrlKey && input.dataset.multiScan !== undefined) {
        // Serial numbers: one scan per line; an empty line (Enter twice) goes on.
        if (!/\n$/.test(input.value)) {
          input.value += "\n";
          return;
        }
      }
      if (input.dataset.lookupUrl) lookup(form, input);
      var next = nextStep(form, input);
      if (next) focusStep(next);
      else if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
      return;
    }
    var shortcut = document.querySelector('[data-shortcut-key="' + event.key + '"]');
    if (shortcut && !shortcut.disabled) {
      event.preventDefault();
      shortcut.click();
    }
  });

  // The form the cursor belongs in: one a refusal came back on, else one marked
  // `data-focus` (the packing form once an order is scanned), else the first shown.
  function preferredForm(root) {
    return (
      root.querySelector("[data-scan-form].has-errors:not([hidden])") ||
      root.querySelector("[data-scan-form][data-focus]:not([hidden])") ||
      root.querySelector("[data-scan-form]:not([hidden])")
    );
  }

  // Fired on the element that settled: a swapped scan form answers how its scan went.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.target;
    if (!(swapped instanceof Element)) return;
    var form = swapped.matches("[data-scan-form]") ? swapped : preferredForm(swapped);
    if (!form) return;
    if (form.classList.contains("has-errors")) {
      reject(form, form.querySelector(".has-error .scan-step"));
    } else {
      if (form.dataset.confirmed !== undefined) beepOk();
      focusStep(form.querySelector("[autofocus]") || steps(form)[0]);
    }
  });

  // A button `data-reveal="#short-form"` shows (or hides again) the form it names.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-reveal]");
    if (!button) return;
    var target = document.querySelector(button.dataset.reveal);
    if (!target) return;
    target.hidden = !target.hidden;
    if (!target.hidden) focusStep(steps(target)[0]);
    else focusStep(steps(document.querySelector("[data-scan-form]:not([hidden])") || target)[0]);
  });

  function focusFirstScan() {
    var form = preferredForm(document);
    if (!form) return;
    focusStep(form.querySelector(".has-error .scan-step") || form.querySelector("[autofocus]") || steps(form)[0]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusFirstScan);
  else focusFirstScan();

  window.FulfillmentScanner = { beepError: beepError, beepOk: beepOk, reject: reject };
})();
