// Sluice's own version, and the haproxy version whose configuration language and behaviour it follows.
export const VERSION = {
  sluice: "0.1.0",
  haproxy: "2.6",
  date: "2026/11/24",
} as const;
