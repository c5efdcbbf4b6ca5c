package explain

func init() {
	Register(ruleMapMethod{rule: RuleDeconv, info: MethodInfo{Name: "deconvolution", Title: "Deconvolution",
		Summary: "the gradient with every ReLU passing back the positive part of its output's signal, whatever its input (Zeiler & Fergus 2014)",
		Inputs:  []InputKind{Image, Table}, Needs: NeedsRules}})
}
