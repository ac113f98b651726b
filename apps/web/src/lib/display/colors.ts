// Class colours: the Okabe-Ito palette, distinguishable with the common colour-vision
// deficiencies. Known classes keep their colour whatever their order in the welcome.
const BY_NAME: Record<string, string> = {
  happy: '#E69F00',
  sad: '#0072B2',
  surprise: '#CC79A7',
  neutral: '#009E73',
  angry: '#D55E00',
  fear: '#56B4E9',
  disgust: '#F0E442',
};
const SPARE = ['#D55E00', '#56B4E9', '#F0E442', '#999999', '#000000'];

export function classColor(name: string, index: number): string {
  return BY_NAME[name] ?? SPARE[index % SPARE.length];
}

export function pct(p: number | undefined, digits = 0): string {
  return p === undefined || !Number.isFinite(p) ? '–' : `${(p * 100).toFixed(digits)}%`;
}

export function ms(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(digits)} ms`;
}

export function fps(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(1)}/s`;
}
