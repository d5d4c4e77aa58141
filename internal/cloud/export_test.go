package cloud

// ParseCloudTimeForTest exposes parseCloudTime to the external tests.
var ParseCloudTimeForTest = parseCloudTime
