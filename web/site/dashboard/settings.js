// The dashboard's declared settings, in one place.
export const SETTINGS = {
  // Seconds between refreshes; `?refresh=N` (1 to 3600) overrides it, e.g. in tests.
  refreshSeconds: 30,
  // Days in the time series, the chosen day being the last.
  seriesDays: 14,
  // What the SMS operator charges per segment, net, in PLN. An assumption of this page, not a figure
  // from the operator: the cost shown is segments (counted by the reporting views) times this price.
  smsPricePerSegmentPln: 0.07,
};

export function refreshSeconds(search = window.location.search) {
  const asked = Number.parseInt(new URLSearchParams(search).get('refresh') ?? '', 10);
  return Number.isInteger(asked) && asked >= 1 && asked <= 3600 ? asked : SETTINGS.refreshSeconds;
}
