/** The Sparkplug output's name among the journal's outputs (apart, so naming it loads no protobuf). */
export const SPARKPLUG_OUTPUT = "sparkplug";
