// Talking to the moodtape server: one place that knows URLs, the CSRF header and the error shape.
// Every failure becomes an ApiError, so callers show `error.message` without parsing anything.

import { deadlineSignal, eitherSignal } from "./signals.js";

export class ApiError extends Error {
  /**
   * @param {string} code  snake_case code from the server, or "unreachable" when fetch itself failed
   * @param {string} message  one line a person can read
   * @param {number} status  HTTP status (0 when the server could not be reached)
   * @param {number|null} retryAfter  seconds to wait, from a Retry-After header
   */
  constructor(code, message, status, retryAfter = null) {
    super(sentence(message));
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }

  get unreachable() {
    return this.status === 0;
  }
}

/** "that file is not a picture" → "That file is not a picture." (server messages are one lower-case line). */
export function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return "Something went wrong.";
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** Send `token` from now on: "Delete everything" moves the visit to a new session, whose token its
 * answer carries (docs/page.md). calibrate.js reads the same <meta> at each call, so it follows. */
export function useCsrfToken(token) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && typeof token === "string" && token) meta.content = token;
}

function retryAfterSeconds(response) {
  const value = response.headers.get("Retry-After");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/** How long the page waits for an answer before it gives up on a request (docs/page.md): a server
 * that stops answering without closing the connection must not leave the page looking live, or a
 * list "Finding music…", for ever. A camera frame is stale after a few seconds anyway. A list may
 * wait for Spotify and YouTube, each allowed 17.5 s with its retries, so it gets longer. A photo
 * gets its base time plus one second for every 64 KiB it sends (a 10 MiB photo over a 512 kbit/s
 * uplink still arrives). */
export const DEADLINE_MS = { frame: 10000, photo: 30000, list: 60000, other: 20000 };
const PHOTO_BYTES_PER_SECOND = 65536;

/** The failure of a request that ran past its deadline: an outage like a refused connection
 * (status 0, so `unreachable`), in words a person can read, never "TimeoutError" or "AbortError". */
function timedOut(ms) {
  const seconds = Math.round(ms / 1000);
  return new ApiError("timeout", `The moodtape server did not answer in ${seconds} s. Is moodtape serve still running?`, 0);
}

/** What a failed fetch or body read means: the caller's own abort stays an AbortError (callers
 * ignore it), the deadline a timeout, anything else the server being unreachable. The signals say
 * which, not the error's name: a browser without AbortSignal.timeout reports both as AbortError. */
function failure(err, signal, deadline, ms) {
  if (signal && signal.aborted) return err && err.name === "AbortError" ? err : new DOMException("aborted", "AbortError");
  if (deadline.aborted) return timedOut(ms);
  if (err && err.name === "AbortError") return err;
  return new ApiError("unreachable", "Can't reach the moodtape server. Is moodtape serve still running?", 0);
}

/** fetch with the page's defaults and `deadline` (a signal from deadlineSignal(deadlineMs)). */
async function request(url, { deadlineMs, deadline, signal, ...options }) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...options, signal: eitherSignal(signal, deadline) });
  } catch (err) {
    throw failure(err, signal, deadline, deadlineMs);
  }
  if (response.ok) return response;
  let code = "http_" + response.status;
  let message = `The server answered ${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch {
    // Not JSON (e.g. a proxy's error page), or cut off by the deadline: keep the generic message.
  }
  throw new ApiError(code, message, response.status, retryAfterSeconds(response));
}

/** The JSON answer of `url`; the deadline (`deadlineMs`, else DEADLINE_MS.other) covers reading it too. */
async function json(url, { deadlineMs = DEADLINE_MS.other, ...options } = {}) {
  const deadline = deadlineSignal(deadlineMs);
  const response = await request(url, { ...options, deadlineMs, deadline });
  try {
    return await response.json();
  } catch (err) {
    // The headers came in time but the body did not (or the caller gave up meanwhile).
    if (deadline.aborted || (options.signal && options.signal.aborted)) {
      throw failure(err, options.signal, deadline, deadlineMs);
    }
    throw err;
  }
}

// The server's upload limit, learnt from /api/config; a bigger file is refused here, before it is sent.
let maxUploadBytes = null;

export async function getConfig() {
  const config = await json("/api/config");
  if (config && config.limits && Number.isFinite(config.limits.max_upload_bytes)) {
    maxUploadBytes = config.limits.max_upload_bytes;
  }
  return config;
}

/**
 * Send one image (a Blob or File) for analysis. With `stream`, the server smooths faces over time.
 * @returns {Promise<{faces: Array, image: {width: number, height: number}, mood: object|null, elapsed_ms: number}>}
 */
export function analyze(blob, { stream = null, signal } = {}) {
  if (maxUploadBytes !== null && blob.size > maxUploadBytes) {
    const mib = (size) => `${(size / 1048576).toFixed(1)} MiB`;
    const message = `that picture is ${mib(blob.size)}; the server takes up to ${mib(maxUploadBytes)}, so send a smaller one`;
    return Promise.reject(new ApiError("too_large", message, 413));
  }
  const url = stream ? `/api/analyze?stream=${encodeURIComponent(stream)}` : "/api/analyze";
  const headers = { "Content-Type": blob.type || "application/octet-stream" };
  const deadlineMs = stream
    ? DEADLINE_MS.frame
    : DEADLINE_MS.photo + Math.ceil((blob.size / PHOTO_BYTES_PER_SECOND) * 1000);
  return json(url, { method: "POST", body: blob, headers, signal, deadlineMs });
}

/** How many items a list has. */
export const LIST_LENGTH = 12;

/** Query parameters for /api/recommendations and /api/export from the page's current choice. */
export function listParams({ mood, strategy, kind, n = LIST_LENGTH }) {
  const params = new URLSearchParams();
  if (mood.emotionOnly) {
    params.set("emotion", mood.emotion);
  } else {
    params.set("valence", mood.valence.toFixed(3));
    params.set("arousal", mood.arousal.toFixed(3));
  }
  if (strategy) params.set("strategy", strategy);
  params.set("kind", kind);
  params.set("n", String(n));
  return params;
}

export function recommendations(params, { signal } = {}) {
  return json(`/api/recommendations?${params}`, { signal, deadlineMs: DEADLINE_MS.list });
}

/**
 * The list to show for `params` (issue 11's saved lists): the session's current list when the
 * request has not really changed (switching kind and back restores it), else a new one; `fresh`
 * asks for a new one anyway. The answer carries `list_id` and `undo` (dislikes that can be undone).
 */
export function showList(params, { fresh = false, signal } = {}) {
  const query = new URLSearchParams(params);
  if (fresh) query.set("fresh", "1");
  return json(`/api/lists?${query}`, { ...withCsrf("POST"), signal, deadlineMs: DEADLINE_MS.list });
}

/** A list this session was shown (from this visit or kept history), as it now is. */
export function getList(listId) {
  return json(`/api/lists/${encodeURIComponent(listId)}`);
}

/**
 * Undo the latest dislike on a list: its row comes back. `item`: the disliked song's key; `dislikeId`:
 * the list's `dislike_id` after that dislike (a retry is then safe, even after the song is disliked again).
 */
export function undoDislike(listId, item, dislikeId) {
  const named = { ...(item ? { item } : {}), ...(dislikeId ? { dislike_id: dislikeId } : {}) };
  const body = Object.keys(named).length ? named : undefined;
  return json(`/api/lists/${encodeURIComponent(listId)}/undo`, withCsrf("POST", body));
}

/** Export exactly the list on screen (by id) or, for a list the server did not keep, by its request. */
export function exportUrl(listId, params, format) {
  const copy = listId ? new URLSearchParams({ list: listId }) : new URLSearchParams(params);
  copy.set("format", format);
  return `/api/export?${copy}`;
}

function withCsrf(method, body) {
  const headers = { "X-CSRF-Token": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
}

export function sendFeedback(payload) {
  return json("/api/feedback", withCsrf("POST", payload));
}

export function getHistory() {
  return json("/api/history");
}

/** Delete lists, feedback and corrections; the server asks for an explicit confirmation. The answer
 * carries the CSRF token of the new session the visit goes on in (pass it to useCsrfToken). */
export function deleteHistory() {
  return json("/api/history?confirm=true", withCsrf("DELETE"));
}

/**
 * Whether this browser keeps a history (issue 11's consent switch: off until chosen). Resolves to
 * null when the server has no such endpoint, so the page hides the switch instead of a broken one.
 */
export async function getHistoryConsent() {
  try {
    return await json("/api/history/consent");
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
    throw err;
  }
}

export function setHistoryConsent(keep) {
  return json("/api/history/consent", withCsrf("PUT", { history: keep }));
}
