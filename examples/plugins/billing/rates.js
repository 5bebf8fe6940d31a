export const taxRate = 0.25;
