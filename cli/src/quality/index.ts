export { registerQualityCommands, type QualityCommandContext } from './quality.commands.ts'
export { renderChart, renderDrift, renderQuality } from './render.ts'
