package bench

func CheckChartPath(string) error       { return nil }
func WriteChart(string, []Result) error { return nil }
