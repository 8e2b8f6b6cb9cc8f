// The final scenario (300 s, 1 -> 603 VUs, 20.05, fees 7% / 10%) for users who have k6:
//   k6 run [-e SCHEDULE_FILE=s.json] tools/k6/rinha-final.js   (env: see lib.js)
import { check, defineStage, optionsFor, pay, scheduleOr, setup, summaryFor, teardownFor } from "./lib.js";

/** @type {import("./lib.js").Scenario} */
const FINAL = scheduleOr({
  name: "final",
  durationS: 300,
  maxVus: 603,
  amount: 20.05,
  window: [15000, 2000],
  formula: "absolute",
  teardown: "processors",
  teardownWindowS: 360,
  stages: [
    { at: 1, defaultDelay: 0, defaultFailure: false, fallbackDelay: 0, fallbackFailure: false },
    { at: 30, defaultDelay: 1000, defaultFailure: false, fallbackDelay: 0, fallbackFailure: false },
    { at: 60, defaultDelay: 500, defaultFailure: false, fallbackDelay: 0, fallbackFailure: false },
    { at: 90, defaultDelay: 2000, defaultFailure: true, fallbackDelay: 1000, fallbackFailure: false },
    { at: 120, defaultDelay: 5000, defaultFailure: true, fallbackDelay: 5, fallbackFailure: false },
    { at: 150, defaultDelay: 0, defaultFailure: false, fallbackDelay: 5, fallbackFailure: true },
    { at: 180, defaultDelay: 100, defaultFailure: false, fallbackDelay: 5, fallbackFailure: false },
    { at: 210, defaultDelay: 50, defaultFailure: false, fallbackDelay: 0, fallbackFailure: false },
    { at: 240, defaultDelay: 103, defaultFailure: false, fallbackDelay: 10, fallbackFailure: false },
    { at: 270, defaultDelay: 2000, defaultFailure: false, fallbackDelay: 0, fallbackFailure: false },
  ],
});
const MAX = Number(__ENV.MAX_REQUESTS || FINAL.maxVus);

export const options = optionsFor(FINAL, MAX);
export { defineStage, setup };
export function payments() {
  pay(FINAL.amount);
}
export function checkPayments() {
  check(FINAL);
}
export function teardown() {
  teardownFor(FINAL);
}
/** @param {any} data */
export function handleSummary(data) {
  return summaryFor(FINAL, MAX, data);
}
