// The preview scenario (60 s, 1 -> 550 VUs, 19.90, fees 5% / 15%) for users who have k6:
//   k6 run [-e SCHEDULE_FILE=s.json] tools/k6/rinha.js   (env: see lib.js)
import { check, defineStage, optionsFor, pay, scheduleOr, setup, summaryFor, teardownFor } from "./lib.js";

/** @type {import("./lib.js").Scenario} */
const PREVIEW = scheduleOr({
  name: "preview",
  durationS: 60,
  maxVus: 550,
  amount: 19.9,
  window: [15000, 1500],
  formula: "signed",
  teardown: "backend",
  teardownWindowS: 70,
  stages: [
    { at: 1, defaultDelay: 0, defaultFailure: false, fallbackDelay: 0, fallbackFailure: false },
    { at: 10, defaultDelay: 100, defaultFailure: false, fallbackDelay: 0, fallbackFailure: false },
    { at: 20, defaultDelay: 100, defaultFailure: true, fallbackDelay: 0, fallbackFailure: false },
    { at: 30, defaultDelay: 2000, defaultFailure: true, fallbackDelay: 1000, fallbackFailure: true },
    { at: 40, defaultDelay: 20, defaultFailure: false, fallbackDelay: 20, fallbackFailure: false },
    { at: 50, defaultDelay: 0, defaultFailure: false, fallbackDelay: 5000, fallbackFailure: false },
  ],
});
const MAX = Number(__ENV.MAX_REQUESTS || PREVIEW.maxVus);

export const options = optionsFor(PREVIEW, MAX);
export { defineStage, setup };
export function payments() {
  pay(PREVIEW.amount);
}
export function checkPayments() {
  check(PREVIEW);
}
export function teardown() {
  teardownFor(PREVIEW);
}
/** @param {any} data */
export function handleSummary(data) {
  return summaryFor(PREVIEW, MAX, data);
}
