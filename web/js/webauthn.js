/**
 * Passkeys in the browser: the server's JSON options (base64url strings) become the
 * ArrayBuffers `navigator.credentials` wants, and the credential it returns becomes
 * JSON again for the server (WebAuthn Level 3 `toJSON` when the browser has it).
 */

/**
 * @param {string} text base64url, with or without padding
 * @returns {ArrayBuffer}
 */
export function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

/**
 * @param {ArrayBuffer | ArrayBufferView | null | undefined} data
 * @returns {string} base64url without padding ("" for nothing)
 */
export function toBase64url(data) {
  if (!data) return "";
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * @param {any[] | undefined} list
 * @returns {any[] | undefined}
 */
function descriptors(list) {
  return list?.map((c) => ({ ...c, id: fromBase64url(c.id) }));
}

/**
 * Options for `navigator.credentials.create` from the server's JSON.
 * @param {any} json
 * @returns {PublicKeyCredentialCreationOptions}
 */
export function creationOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials) || [],
  };
}

/**
 * Options for `navigator.credentials.get` from the server's JSON.
 * @param {any} json
 * @returns {PublicKeyCredentialRequestOptions}
 */
export function requestOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    allowCredentials: descriptors(json.allowCredentials) || [],
  };
}

/**
 * The credential as the server's JSON (registration or authentication).
 * @param {PublicKeyCredential} credential
 * @returns {Record<string, any>}
 */
export function credentialJSON(credential) {
  if (typeof (/** @type {any} */ (credential).toJSON) === "function") {
    return /** @type {any} */ (credential).toJSON();
  }
  const response = /** @type {any} */ (credential.response);
  /** @type {Record<string, string | string[]>} */
  const out = { clientDataJSON: toBase64url(response.clientDataJSON) };
  if (response.attestationObject) {
    out.attestationObject = toBase64url(response.attestationObject);
    if (typeof response.getTransports === "function") out.transports = response.getTransports();
  } else {
    out.authenticatorData = toBase64url(response.authenticatorData);
    out.signature = toBase64url(response.signature);
    if (response.userHandle) out.userHandle = toBase64url(response.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: out,
    clientExtensionResults: {},
    authenticatorAttachment: /** @type {any} */ (credential).authenticatorAttachment || undefined,
  };
}

/**
 * Whether this browser can use passkeys at all.
 * @returns {boolean}
 */
export function passkeysAvailable() {
  return typeof window.PublicKeyCredential === "function" && !!navigator.credentials?.create;
}

/**
 * A short reason code for a failed ceremony: "cancelled", "exists", "unsupported", "failed".
 * @param {unknown} error
 * @returns {string}
 */
export function ceremonyProblem(error) {
  const name = error instanceof DOMException ? error.name : "";
  if (name === "NotAllowedError" || name === "AbortError") return "cancelled";
  if (name === "InvalidStateError") return "exists";
  if (name === "NotSupportedError" || name === "SecurityError") return "unsupported";
  return "failed";
}
