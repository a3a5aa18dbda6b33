/**
 * Small DOM helpers shared by the views: element building, list rebuilding that keeps
 * the keyboard focus, and a modal confirmation with large buttons.
 */
import { t, onLanguageChange } from "../i18n.js";

/**
 * @typedef {Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>} Attrs
 * @typedef {Node | string | null | undefined | false} Child
 */

/**
 * Build an element. `on*` attributes with functions become listeners; `false`/`null`
 * attributes are left out; `dataset` keys are written as `data-*`; `style` is set through
 * `element.style` (CSP allows that, not a `style` attribute).
 * The element's type follows from a literal tag (`h("button")` is an HTMLButtonElement).
 * @template {string} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {K extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[K] : HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = /** @type {K extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[K] : HTMLElement} */ (
    document.createElement(tag));
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === "function") {
      el.addEventListener(name.replace(/^on/, ""), /** @type {EventListener} */ (value));
    } else if (name === "class") {
      el.className = String(value);
    } else if (name === "text") {
      el.textContent = String(value);
    } else if (name === "style") {
      // Through the CSS object model: the pages' CSP refuses a style="" attribute.
      el.style.cssText = String(value);
    } else if (name in el && typeof value === "boolean") {
      /** @type {any} */ (el)[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/**
 * An element of the page's own markup by id; the pages' ids are fixed, so it is there.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  return /** @type {HTMLElement} */ (document.getElementById(id));
}

/**
 * A big button with a text label (never an icon alone).
 * @param {string} label
 * @param {string} testid
 * @param {() => void} onClick
 * @param {{kind?: string, disabled?: boolean, key?: string, pressed?: boolean, describedby?: string}} [options]
 * @returns {HTMLButtonElement}
 */
export function button(label, testid, onClick, options = {}) {
  return h("button", {
    type: "button",
    class: `btn ${options.kind || "secondary"}`,
    "data-testid": testid,
    "data-key": options.key || null,
    "aria-pressed": options.pressed === undefined ? null : String(options.pressed),
    "aria-describedby": options.describedby || null,
    disabled: !!options.disabled,
    onclick: onClick,
  }, label);
}

/**
 * Replace the children of `container`, then give the focus back to the element with the
 * same `data-key` if the focus was inside (a list rebuilt by a push must not throw a
 * keyboard user back to the top of the page).
 * @param {HTMLElement} container
 * @param {Node[]} children
 * @returns {void}
 */
export function replaceKeepingFocus(container, children) {
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  const key = active && container.contains(active) ? active.dataset.key : undefined;
  container.replaceChildren(...children);
  if (!key) return;
  const again = /** @type {HTMLElement | null} */ (container.querySelector(`[data-key="${CSS.escape(key)}"]`));
  if (again && !(/** @type {any} */ (again).disabled)) again.focus({ preventScroll: true });
}

/**
 * @typedef {object} ConfirmOptions
 * @property {string} title
 * @property {string} [text]
 * @property {string} confirm label of the confirming button
 * @property {string} [cancel] label of the safe choice (default: common.cancel)
 * @property {boolean} [danger]
 * @property {{label: string, value?: string, choices?: string[]}} [input] ask for a short text
 */

/**
 * Ask before doing something that cannot be undone. Resolves with the text typed (or ""
 * without an input) when confirmed, and with `null` when cancelled. The focus starts on the
 * safe choice (or in the text field); `options` is read again when the language changes
 * while the dialog is open, so pass a function that calls `t()`.
 * @param {ConfirmOptions | (() => ConfirmOptions)} options
 * @returns {Promise<string | null>}
 */
export function confirmDialog(options) {
  const read = typeof options === "function" ? options : () => options;
  const first = read();
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  const title = h("h2", { id: "dialog-title" });
  const text = h("p", { class: "dialog-text", "data-testid": "dialog-text" });
  const inputLabel = h("span", {});
  const choices = h("div", { class: "choices", role: "group" });
  /** @type {HTMLInputElement | null} */
  let input = null;
  /** @type {Node[]} */
  const body = [text];
  if (first.input) {
    input = h("input", {
      type: "text", class: "text-input", "data-testid": "dialog-input", maxlength: 200,
      value: first.input.value || "", autocomplete: "off",
    });
    body.push(h("label", { class: "field" }, inputLabel, input));
    if (first.input.choices?.length) body.push(choices);
  }
  const dialog = h("dialog", {
    class: "confirm", "data-testid": "dialog", "aria-labelledby": "dialog-title",
  });
  return new Promise((resolve) => {
    /** @param {string | null} result */
    const finish = (result) => {
      stopListening();
      dialog.close();
      dialog.remove();
      opener?.focus?.({ preventScroll: true });
      resolve(result);
    };
    const confirm = button(first.confirm, "dialog-confirm", () => {
      if (input && !input.value.trim()) {
        input.focus();
        return;
      }
      finish(input ? input.value.trim() : "");
    }, { kind: first.danger ? "danger" : "primary" });
    const cancel = button("", "dialog-cancel", () => finish(null));
    const fill = () => {
      const o = read();
      title.textContent = o.title;
      text.textContent = o.text || "";
      text.hidden = !o.text;
      confirm.textContent = o.confirm;
      cancel.textContent = o.cancel || t("common.cancel");
      inputLabel.textContent = o.input?.label || "";
      choices.setAttribute("aria-label", o.input?.label || "");
      const field = /** @type {HTMLInputElement} */ (input);
      choices.replaceChildren(...(o.input?.choices || []).map((choice) => button(choice, "dialog-choice", () => {
        field.value = choice;
        field.focus();
      })));
    };
    fill();
    const stopListening = onLanguageChange(fill);
    dialog.append(title, ...body, h("div", { class: "dialog-buttons" }, cancel, confirm));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    (input || cancel).focus();
  });
}

/**
 * A modal dialog of fields with 取消 and a confirm button; resolves with what ``read`` gives
 * (null when cancelled; ``read`` returning null keeps the dialog open, having put the focus on
 * what is missing).
 * @template T
 * @param {{title: string, testid: string, className?: string}} what the dialog's title; its test id
 *   (the confirm button's is that plus "-confirm")
 * @param {Node[]} fields
 * @param {string} confirmLabel
 * @param {() => T | null} read
 * @param {() => void} focus where the focus starts
 * @returns {Promise<T | null>}
 */
export function formDialog(what, fields, confirmLabel, read, focus) {
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  const titleId = `${what.testid}-title`;
  const dialog = h("dialog", { class: `confirm ${what.className || what.testid}`, "data-testid": what.testid,
    "aria-labelledby": titleId });
  return new Promise((resolve) => {
    /** @param {T | null} result */
    const finish = (result) => {
      dialog.close();
      dialog.remove();
      opener?.focus?.({ preventScroll: true });
      resolve(result);
    };
    const confirm = button(confirmLabel, `${what.testid}-confirm`, () => {
      const result = read();
      if (result !== null) finish(result);
    }, { kind: "primary" });
    dialog.append(h("h2", { id: titleId }, what.title), ...fields,
      h("div", { class: "dialog-buttons" }, button(t("common.cancel"), "dialog-cancel", () => finish(null)), confirm));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    focus();
  });
}
