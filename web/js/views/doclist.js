/**
 * The documents panel's list: the sitting's documents as cards with their first page, the
 * current agenda item's first, and the search box with its results (a result opens its page).
 */
import { t } from "../i18n.js";
import { h } from "./dom.js";

/**
 * @typedef {import("./documents.js").Doc} Doc
 * @typedef {{document_id: string, title: string, page: number, snippet: string}} SearchResult
 * @typedef {object} ListingOptions
 * @property {Doc[]} docs the sitting's documents
 * @property {string | null} currentItemId the agenda item being dealt with
 * @property {string} query the search typed last
 * @property {SearchResult[] | null} results its results, or null without a search
 * @property {(path: string) => string} url an API path as this screen may fetch it
 * @property {(doc: Doc, page: number) => void} open
 * @property {(q: string) => void} search
 */

/**
 * @param {ListingOptions} o
 * @returns {HTMLElement}
 */
export function documentListing(o) {
  const input = h("input", {
    type: "search", class: "text-input", "data-testid": "docs-search", "aria-label": t("docs.search"),
    placeholder: t("docs.search.placeholder"), maxlength: "100" });
  input.value = o.query;
  const form = h("form", { class: "docs-search", role: "search" },
    input, h("button", { type: "submit", class: "btn primary" }, t("docs.search")));
  form.addEventListener("submit", (e) => { e.preventDefault(); o.search(input.value); });
  const box = h("div", { class: "docs-list-box" }, form, o.results ? resultList(o) : null);
  const current = o.currentItemId;
  const docs = [...o.docs].sort((a, b) => Number(b.agenda_item_id === current) - Number(a.agenda_item_id === current));
  if (!docs.length) {
    box.append(h("p", { class: "docs-empty", "data-testid": "docs-empty" }, t("docs.none")));
    return box;
  }
  box.append(h("ul", { class: "docs-list" }, ...docs.map((doc) => {
    const thumb = h("img", { alt: "", loading: "lazy" });
    thumb.src = o.url(`/api/documents/${doc.id}/thumbnails/1`);
    return h("li", {}, h("button", {
      type: "button", class: "docs-card", "data-testid": "docs-card", "data-id": doc.id, onclick: () => o.open(doc, 1),
    }, thumb, h("span", { class: "docs-card-title" }, doc.title),
    h("span", { class: "docs-card-pages" }, t("docs.pages", { n: String(doc.pages) }))));
  })));
  return box;
}

/**
 * @param {ListingOptions} o
 * @returns {HTMLElement}
 */
function resultList(o) {
  const results = /** @type {SearchResult[]} */ (o.results);
  return h("ul", { class: "docs-results", "data-testid": "docs-results", "aria-live": "polite" },
    results.length ? null : h("li", {}, t("docs.search.none")),
    ...results.map((r) => h("li", {}, h("button", {
      type: "button", class: "docs-result",
      onclick: () => {
        const doc = o.docs.find((d) => d.id === r.document_id);
        if (doc) o.open(doc, r.page);
      },
    }, h("strong", {}, `${r.title}(${t("docs.at_page", { page: String(r.page) })})`), h("span", {}, r.snippet)))));
}
