// Abort signals for requests with a deadline: shared by api.js and calibrate.js (which imports only
// modules that import nothing, like this one).

/** A signal that aborts after `ms` with a "TimeoutError" (AbortSignal.timeout where the browser has
 * it: Safari before 16 has not, and a missing function must not break every request). */
export function deadlineSignal(ms) {
  if (typeof AbortSignal.timeout === "function") return AbortSignal.timeout(ms);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DOMException("The deadline passed.", "TimeoutError")), ms);
  return controller.signal;
}

/** A signal that aborts when either does (AbortSignal.any where the browser has it). */
export function eitherSignal(signal, deadline) {
  if (!signal) return deadline;
  if (typeof AbortSignal.any === "function") return AbortSignal.any([signal, deadline]);
  const both = new AbortController();
  for (const one of [signal, deadline]) {
    if (one.aborted) both.abort(one.reason);
    else one.addEventListener("abort", () => both.abort(one.reason), { once: true });
  }
  return both.signal;
}
