/**
 * The signatures of the minutes (会議録の署名, 地方自治法123条), under the minutes' links: who signs
 * (the chair who presided and the members the chair named at the sitting), who has signed and
 * when. A signer logged in with their passkey sees one big button 「会議録に署名する」: their
 * passkey signs the final minutes' hash, and the signature goes on the signed record.
 */
import { t, language } from "../i18n.js";
import { api, whoAmI } from "../api.js";
import { h, button } from "../views/dom.js";
import { requestOptions, credentialJSON, ceremonyProblem } from "../webauthn.js";
import { errorText, announce } from "../pages/page.js";
import { eraDate, clockTime } from "./format.js";

/**
 * @typedef {{id: string, name: string, presiding: boolean, signed_at: string | null}} Signer
 * @typedef {{sha256: string | null, named: boolean, signers: Signer[], complete: boolean, me: string | null,
 *   receipt?: string}} Signing
 */

export class SignaturesPanel {
  /**
   * @param {HTMLElement} root
   * @param {string} meetingId
   */
  constructor(root, meetingId) {
    this.root = root;
    this.base = `/api/archive/${encodeURIComponent(meetingId)}/minutes`;
    /** @type {Signing | null} */
    this.signing = null;
    this.csrf = "";
    this.busy = false;
    this.problem = ""; // why the last signing did not go through
  }

  async load() {
    this.signing = await api("GET", `${this.base}/signatures`);
    if (this.signing?.me && !this.csrf) {
      try {
        this.csrf = (await whoAmI())?.csrf || "";
      } catch { /* signing then says to log in again */ }
    }
    this.render();
  }

  render() {
    const s = this.signing;
    if (!s) return;
    /** @type {(Node | null)[]} */
    const parts = [];
    if (!s.named) {
      parts.push(h("p", { class: "hint", "data-testid": "signatures-none" }, t("signatures.not_named")));
    } else {
      parts.push(h("p", { class: "hint" }, s.sha256 ? (s.complete ? t("signatures.complete") : t("signatures.open"))
        : t("signatures.not_final")));
      parts.push(h("ul", { class: "signer-list", "data-testid": "signer-list" }, ...s.signers.map((x) => h("li", {
        class: x.signed_at ? "signer signed" : "signer", "data-testid": "signer", "data-signed": x.signed_at ? "yes" : "no",
      },
      h("span", { class: "signer-name" }, x.name),
      h("span", { class: "chip kind" }, t(x.presiding ? "signatures.role.chair" : "signatures.role.named")),
      h("span", { class: "signer-state" }, x.signed_at
        ? t("signatures.signed_at", { when: `${eraDate(new Date(x.signed_at), language(), false)} ${clockTime(new Date(x.signed_at))}` })
        : t("signatures.unsigned"))))));
      const mine = s.signers.find((x) => x.id === s.me);
      if (s.sha256 && mine && !mine.signed_at) {
        parts.push(h("p", { class: "lead" }, t("signatures.you", { name: mine.name })));
        parts.push(button(t(this.busy ? "signatures.signing" : "signatures.sign"), "sign-minutes", () => this.sign(),
          { kind: "primary", disabled: this.busy }));
      }
      if (this.problem) {
        parts.push(h("p", { class: "problem", role: "alert", "data-testid": "sign-problem" }, this.problem));
      }
    }
    this.root.replaceChildren(...parts.filter((p) => p !== null));
  }

  async sign() {
    if (this.busy) return;
    this.busy = true;
    this.problem = "";
    this.render();
    try {
      const options = await api("POST", `${this.base}/sign/options`, { csrf: this.csrf });
      /** @type {Credential | null} */
      let credential = null;
      try {
        credential = await navigator.credentials.get({ publicKey: requestOptions(options.publicKey) });
      } catch (error) {
        this.problem = t(`signatures.passkey.${ceremonyProblem(error)}`);
      }
      if (credential) {
        this.signing = await api("POST", `${this.base}/sign`, {
          csrf: this.csrf,
          body: { ceremony: options.ceremony, nonce: options.nonce, sha256: options.sha256,
            credential: credentialJSON(/** @type {PublicKeyCredential} */ (credential)) },
        });
        announce(t("signatures.done"));
        // the record grew by the signature: its entry's hash is the chain's new head
        document.dispatchEvent(new CustomEvent("gikai:record-grew", { detail: this.signing?.receipt }));
      } else if (!this.problem) {
        this.problem = t("signatures.passkey.cancelled");
      }
    } catch (error) {
      this.problem = errorText(error);
    } finally {
      this.busy = false;
      this.render();
    }
  }
}
