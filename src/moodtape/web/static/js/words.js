// Words a person uses: emotions as people name them, and valence/arousal as "pleasant" and "calm".
// The API keeps FER2013's labels (fear, disgust, ...); only the page shows these words, so every
// place on screen that names a mood goes through this module.

/** FER2013 label → how people say it about a face ("looks afraid", not "looks fear"). */
export const EMOTION_WORDS = {
  angry: "angry",
  disgust: "disgusted",
  fear: "afraid",
  happy: "happy",
  sad: "sad",
  surprise: "surprised",
  neutral: "neutral",
};

export function emotionWord(label) {
  return EMOTION_WORDS[label] || String(label || "");
}

// Thresholds on [-1, 1]: beyond ±0.5 a mood is clearly one way, within ±0.15 it is neither.
function scale(value, low, high) {
  if (value >= 0.5) return high;
  if (value >= 0.15) return `a little ${high}`;
  if (value > -0.15) return null;
  if (value > -0.5) return `a little ${low}`;
  return low;
}

/** "pleasant and a little energetic" for valence 0.7, arousal 0.3 (both in [-1, 1]). */
export function feelWords(valence, arousal) {
  const parts = [scale(valence, "unpleasant", "pleasant"), scale(arousal, "calm", "energetic")].filter(Boolean);
  return parts.length ? parts.join(" and ") : "neither pleasant nor unpleasant, neither calm nor energetic";
}

/** The numbers, kept for those who want them: "pleasant +0.71 · energetic +0.34". */
export function moodNumbers(mood) {
  const signed = (x) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(2);
  return `pleasant ${signed(mood.valence)} · energetic ${signed(mood.arousal)}`;
}

/** One line for a mood: "sad — unpleasant and a little calm". */
export function moodLine(mood) {
  return `${emotionWord(mood.emotion)} — ${feelWords(mood.valence, mood.arousal)}`;
}

/** What each strategy does, shown on screen under the strategy buttons. */
export const STRATEGY_WORDS = {
  "": "Auto picks a strategy from your mood.",
  match: "Match: stays where your mood is.",
  uplift: "Uplift: starts near your mood, then lifts it toward pleasant.",
  calm: "Calm: moves toward quiet, gentle music.",
  energize: "Energize: moves toward lively, energetic music.",
};
