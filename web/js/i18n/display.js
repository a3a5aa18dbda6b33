/**
 * The chamber display's strings (/display/<id>: the monitor in the chamber, the stream's
 * overlay), Japanese and English with identical keys; the page also uses the gallery's.
 */
export default {
  ja: {
    "display.app": "gikai 議場表示",
    "display.page_title": "議場表示",
    "display.item": "議題",
    "display.item.none": "—",
    "display.floor": "発言",
    "display.floor.chair": "進行",
    "display.floor.none": "いま発言している人はいません。",
    "display.result": "採決の結果",
    "display.counts": "賛成 {yes}・反対 {no}",
    "display.counts.abstain": "賛成 {yes}・反対 {no}・棄権 {abstain}",
    "display.by_chair": "可否同数のため、委員長の決するところによる",
    "display.clock.left": "残り {time}",
    "display.clock.over": "超過 {time}",
    "display.missing": "この会議は見つかりません。",
    "display.notice.scheduled": "開会前です。しばらくお待ちください。",
    "display.notice.recessed": "ただいま休憩中です。",
    "display.notice.adjourned": "本日の会議は散会しました。",
  },
  en: {
    "display.app": "gikai chamber display",
    "display.page_title": "Chamber display",
    "display.item": "Agenda item",
    "display.item.none": "—",
    "display.floor": "The floor",
    "display.floor.chair": "Presiding",
    "display.floor.none": "Nobody has the floor.",
    "display.result": "Result of the vote",
    "display.counts": "Yes {yes} · No {no}",
    "display.counts.abstain": "Yes {yes} · No {no} · Abstain {abstain}",
    "display.by_chair": "Tied: decided by the chair",
    "display.clock.left": "{time} left",
    "display.clock.over": "{time} over",
    "display.missing": "No such sitting.",
    "display.notice.scheduled": "The sitting has not opened yet.",
    "display.notice.recessed": "The sitting is in recess.",
    "display.notice.adjourned": "The sitting has adjourned for today.",
  },
};
