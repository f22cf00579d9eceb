/*
 * Small conveniences for the linking site. Every page works without this file; it only adds:
 * - a confirm() before destructive forms (`data-confirm`),
 * - one submission per form (the button is disabled and relabelled after the first click),
 * - show/hide buttons for secret inputs (`data-toggle-secret`),
 * - dismissable notices (`data-dismiss`),
 * - absolute dates in the browser's time zone (`<time data-local>`).
 * Served from /static/ under a CSP without 'unsafe-inline': no inline handlers, no eval.
 */
(() => {
  document.documentElement.classList.add('js');

  /** Asks before a destructive form is sent; leaves the form alone when the user says no. */
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.submitted === 'true') {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = 'true';
    for (const button of form.querySelectorAll('button[type="submit"], button:not([type])')) {
      if (!(button instanceof HTMLButtonElement)) continue;
      // Disable on the next tick: a disabled button that was clicked would drop its own name/value.
      window.setTimeout(() => {
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
        const busy = button.dataset.busyLabel;
        const label = button.querySelector('[data-label]');
        if (busy && label) label.textContent = busy;
      }, 0);
    }
  });

  /** Coming back with the back button shows the page from cache: make its forms usable again. */
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    for (const form of document.querySelectorAll('form[data-submitted]')) {
      if (!(form instanceof HTMLFormElement)) continue;
      delete form.dataset.submitted;
      for (const button of form.querySelectorAll('button[aria-busy]')) {
        if (!(button instanceof HTMLButtonElement)) continue;
        button.disabled = false;
        button.removeAttribute('aria-busy');
        const label = button.querySelector('[data-label]');
        if (label && button.dataset.idleLabel) label.textContent = button.dataset.idleLabel;
      }
    }
  });
  for (const button of document.querySelectorAll('button[data-busy-label]')) {
    const label = button.querySelector('[data-label]');
    if (label && button instanceof HTMLButtonElement) button.dataset.idleLabel = label.textContent || '';
  }

  /** Secret inputs: a Show/Hide button next to each, present only when this script runs. */
  for (const toggle of document.querySelectorAll('button[data-toggle-secret]')) {
    if (!(toggle instanceof HTMLButtonElement)) continue;
    const field = document.getElementById(toggle.dataset.toggleSecret || '');
    if (!(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) continue;
    const label = toggle.querySelector('[data-label]');
    toggle.hidden = false;
    toggle.addEventListener('click', () => {
      const reveal = toggle.getAttribute('aria-pressed') !== 'true';
      if (field instanceof HTMLInputElement) field.type = reveal ? 'text' : 'password';
      else field.classList.toggle('input-masked', !reveal);
      toggle.setAttribute('aria-pressed', String(reveal));
      if (label) label.textContent = reveal ? 'Hide' : 'Show';
    });
  }

  /** Dismiss buttons remove the notice they sit in. */
  for (const button of document.querySelectorAll('button[data-dismiss]')) {
    if (!(button instanceof HTMLButtonElement)) continue;
    button.hidden = false;
    button.addEventListener('click', () => {
      button.closest('[data-dismissable]')?.remove();
    });
  }

  /** Absolute dates: the server writes UTC; show them in the reader's own time zone. */
  const options = {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  };
  const thisYear = new Intl.DateTimeFormat(undefined, options);
  const otherYear = new Intl.DateTimeFormat(undefined, { ...options, year: 'numeric' });
  const currentYear = new Date().getFullYear();
  for (const element of document.querySelectorAll('time[data-local]')) {
    const value = element.getAttribute('datetime');
    if (!value) continue;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) continue;
    element.setAttribute('title', element.textContent || '');
    element.textContent = (date.getFullYear() === currentYear ? thisYear : otherYear).format(date);
  }
})();
