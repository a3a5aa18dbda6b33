/**
 * The caption screen's strings (/captions/<id>), Japanese and English with identical keys. Only that
 * page and the gallery's caption line use them; each adds them to i18n.js's tables when it starts.
 */
export default {
  ja: {
    "captions.app": "gikai 字幕",
    "captions.waiting": "発言を待っています。",
    "captions.off": "この会議では字幕を表示していません(音声認識が入っていません)。",
    "captions.missing": "この会議は見つかりません。アドレスを確かめてください。",
    "captions.reconnecting": "接続が切れました。つなぎ直しています…",
    "captions.auto": "自動字幕",
    "captions.note": "字幕は音声を機械で文字にしたもので、誤りを含むことがあります。正式な記録は会議録です。",
    "captions.heading": "字幕",
  },
  en: {
    "captions.app": "gikai captions",
    "captions.waiting": "Waiting for someone to speak.",
    "captions.off": "Captions are off for this sitting (no speech recognition installed).",
    "captions.missing": "This sitting was not found. Please check the address.",
    "captions.reconnecting": "Connection lost. Reconnecting…",
    "captions.auto": "Automatic captions",
    "captions.note": "Captions are made by machine from the sound and may contain mistakes. The minutes are the official record.",
    "captions.heading": "Captions",
  },
};
