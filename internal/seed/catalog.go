package seed

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// partType is a kind of part and the range of its new price in US dollars.
type partType struct {
	category string
	name     string
	minUSD   int
	maxUSD   int
	class    partClass
}

// partClass says how a kind of part is stocked and in which conditions.
type partClass int

const (
	stock   partClass = iota // consumables stocked by the dozen (filters, seals, sensors): new only
	rebuild                  // rebuildable units (pumps, injectors, starters): also remanufactured
	plain                    // everything else: new, used or for parts
)

// partTypes lists the kinds of parts listed, by category.
var partTypes = []partType{
	{"Engine", "Cylinder Head", 1200, 6500, rebuild},
	{"Engine", "Turbocharger", 900, 4200, rebuild},
	{"Engine", "Oil Pump", 250, 1400, rebuild},
	{"Engine", "Crankshaft", 1500, 7800, plain},
	{"Engine", "Camshaft", 600, 2600, plain},
	{"Engine", "Piston and Liner Kit", 450, 2200, plain},
	{"Engine", "Connecting Rod", 180, 900, plain},
	{"Engine", "Overhaul Gasket Set", 220, 1100, stock},
	{"Engine", "Rocker Arm Assembly", 150, 800, plain},
	{"Engine", "Long Block", 9000, 32000, rebuild},
	{"Hydraulics", "Main Hydraulic Pump", 4500, 19000, rebuild},
	{"Hydraulics", "Hydraulic Gear Pump", 600, 3200, rebuild},
	{"Hydraulics", "Hydraulic Piston Pump", 2500, 11000, rebuild},
	{"Hydraulics", "Main Control Valve", 3000, 14000, rebuild},
	{"Hydraulics", "Boom Cylinder", 1800, 8500, rebuild},
	{"Hydraulics", "Swing Motor", 2500, 9500, rebuild},
	{"Hydraulics", "Travel Motor", 3000, 12000, rebuild},
	{"Hydraulics", "Pilot Valve", 400, 1800, plain},
	{"Hydraulics", "Cylinder Seal Kit", 40, 350, stock},
	{"Filters", "Oil Filter", 15, 90, stock},
	{"Filters", "Fuel Filter", 18, 120, stock},
	{"Filters", "Fuel Water Separator", 35, 160, stock},
	{"Filters", "Air Filter Element", 40, 260, stock},
	{"Filters", "Hydraulic Filter", 30, 220, stock},
	{"Filters", "Cab Air Filter", 15, 80, stock},
	{"Filters", "Transmission Filter", 25, 150, stock},
	{"Electrical", "Alternator", 250, 1300, rebuild},
	{"Electrical", "Starter Motor", 300, 1500, rebuild},
	{"Electrical", "Engine Wiring Harness", 400, 2600, plain},
	{"Electrical", "ECM Controller", 1200, 5200, rebuild},
	{"Electrical", "Pressure Sensor", 60, 420, stock},
	{"Electrical", "Speed Sensor", 50, 300, stock},
	{"Electrical", "Monitor Display", 700, 3200, plain},
	{"Undercarriage", "Track Chain Assembly", 2200, 9000, plain},
	{"Undercarriage", "Track Roller", 180, 900, plain},
	{"Undercarriage", "Carrier Roller", 120, 600, plain},
	{"Undercarriage", "Front Idler", 600, 2800, plain},
	{"Undercarriage", "Sprocket Segment", 60, 350, stock},
	{"Undercarriage", "Final Drive", 4000, 16000, rebuild},
	{"Undercarriage", "Track Adjuster", 500, 2400, plain},
	{"Transmission", "Transmission Assembly", 6000, 28000, rebuild},
	{"Transmission", "Torque Converter", 1500, 7000, rebuild},
	{"Transmission", "Transmission Control Valve", 900, 4200, rebuild},
	{"Transmission", "Clutch Pack", 300, 1800, plain},
	{"Transmission", "Planetary Gear Set", 800, 4500, plain},
	{"Transmission", "Drive Shaft", 350, 1900, plain},
	{"Cooling", "Radiator", 900, 5200, plain},
	{"Cooling", "Water Pump", 180, 1100, rebuild},
	{"Cooling", "Oil Cooler", 350, 2100, plain},
	{"Cooling", "Fan Clutch", 300, 1500, plain},
	{"Cooling", "Thermostat", 25, 140, stock},
	{"Cooling", "Charge Air Cooler", 700, 3600, plain},
	{"Fuel System", "Fuel Injector", 220, 1200, rebuild},
	{"Fuel System", "Fuel Injection Pump", 1500, 7500, rebuild},
	{"Fuel System", "Fuel Transfer Pump", 150, 900, rebuild},
	{"Fuel System", "Common Rail", 400, 1800, plain},
	{"Fuel System", "Fuel Pressure Regulator", 90, 600, plain},
	{"Brakes", "Brake Caliper", 250, 1300, rebuild},
	{"Brakes", "Brake Disc", 150, 900, plain},
	{"Brakes", "Brake Valve", 300, 1600, rebuild},
	{"Brakes", "Brake Shoe Set", 90, 450, stock},
	{"Brakes", "Parking Brake Actuator", 200, 1100, plain},
	{"Cab & Interior", "Operator Seat", 600, 2800, plain},
	{"Cab & Interior", "Cab Door", 900, 3800, plain},
	{"Cab & Interior", "Joystick Control", 400, 2200, plain},
	{"Cab & Interior", "Front Windshield", 250, 1200, plain},
	{"Cab & Interior", "HVAC Blower Motor", 150, 800, plain},
	{"Ground Engaging Tools", "Bucket Tooth", 20, 120, stock},
	{"Ground Engaging Tools", "Cutting Edge", 150, 900, plain},
	{"Ground Engaging Tools", "Tooth Adapter", 60, 300, stock},
	{"Ground Engaging Tools", "Ripper Shank", 800, 3500, plain},
}

// machine is a model a part fits, e.g. a Caterpillar 320D excavator.
type machine struct {
	brand string
	model string
	kind  string
}

// String names the machine, e.g. "Caterpillar 320D excavator".
func (m machine) String() string { return m.brand + " " + m.model + " " + m.kind }

// machines lists the models listings say their parts fit.
var machines = []machine{
	{"Caterpillar", "320D", "excavator"},
	{"Caterpillar", "336F", "excavator"},
	{"Caterpillar", "D6T", "dozer"},
	{"Caterpillar", "D8R", "dozer"},
	{"Caterpillar", "950H", "wheel loader"},
	{"Caterpillar", "966G", "wheel loader"},
	{"Caterpillar", "140M", "motor grader"},
	{"Caterpillar", "420F", "backhoe loader"},
	{"Caterpillar", "C15", "engine"},
	{"Caterpillar", "3406E", "engine"},
	{"John Deere", "310SL", "backhoe loader"},
	{"John Deere", "544K", "wheel loader"},
	{"John Deere", "850K", "dozer"},
	{"John Deere", "8R 370", "tractor"},
	{"John Deere", "9570R", "tractor"},
	{"John Deere", "S780", "combine"},
	{"John Deere", "200G", "excavator"},
	{"John Deere", "6090 PowerTech", "engine"},
	{"Komatsu", "PC200-8", "excavator"},
	{"Komatsu", "PC360LC-11", "excavator"},
	{"Komatsu", "D65PX-18", "dozer"},
	{"Komatsu", "WA380-8", "wheel loader"},
	{"Komatsu", "HD785-7", "haul truck"},
	{"Volvo", "EC220E", "excavator"},
	{"Volvo", "L120H", "wheel loader"},
	{"Volvo", "A40G", "articulated hauler"},
	{"Volvo", "D13", "engine"},
	{"Kubota", "KX040-4", "mini excavator"},
	{"Kubota", "SVL75-2", "track loader"},
	{"Kubota", "M7-172", "tractor"},
	{"Kubota", "V3800", "engine"},
	{"Hitachi", "ZX210LC-6", "excavator"},
	{"Hitachi", "ZX350LC-6", "excavator"},
	{"Hitachi", "ZW180-6", "wheel loader"},
	{"Cummins", "ISX15", "engine"},
	{"Cummins", "QSB6.7", "engine"},
	{"Cummins", "QSK19", "engine"},
	{"Cummins", "N14", "engine"},
	{"Cummins", "6BT 5.9", "engine"},
	{"Perkins", "1104D-44T", "engine"},
	{"Perkins", "1106D-E66TA", "engine"},
	{"Perkins", "404D-22", "engine"},
}

// brand is a maker whose parts are listed.
type brand struct {
	name     string
	patterns []string // how its part numbers look; see partNumber
	makes    []string // categories or part types it makes
	oem      bool     // its parts fit its own machines only
	weight   int      // how common it is in listings
}

// What the brands make.
var (
	everything = []string{"Engine", "Hydraulics", "Filters", "Electrical", "Undercarriage", "Transmission",
		"Cooling", "Fuel System", "Brakes", "Cab & Interior", "Ground Engaging Tools"}
	engineMaker = []string{"Engine", "Cooling", "Fuel System", "Filters", "ECM Controller", "Engine Wiring Harness",
		"Pressure Sensor", "Speed Sensor"}
	filterMaker = []string{"Filters"}
)

// brands lists the makers whose parts are listed, with the patterns of their
// part numbers (examples in the comments).
var brands = []*brand{
	{"Caterpillar", []string{"#@-####", "###-####"}, everything, true, 14},                         // 1R-0750, 326-1644
	{"John Deere", []string{"{RE|AT|AH|AR|DZ}######", "{AT|RE|AH}-###-###"}, everything, true, 11}, // RE504836, AT-123-456
	{"Komatsu", []string{"###-#@-#####", "####-##-####"}, everything, true, 8},                     // 708-2L-00300, 6754-71-5310
	{"Volvo", []string{"2#######", "VOE########"}, everything, true, 5},                            // 21707134, VOE14532687
	{"Kubota", []string{"#@###-#####"}, everything, true, 4},                                       // 1G777-51010
	{"Hitachi", []string{"4######"}, everything, true, 4},                                          // 4630520
	{"Cummins", []string{"{3|4|5}######"}, engineMaker, true, 8},                                   // 3979089
	{"Perkins", []string{"####@###", "T######"}, engineMaker, true, 4},                             // 4131A013, T400723
	{"Bosch", []string{"0 ### ### ###"}, []string{"Fuel System", "Alternator", "Starter Motor",
		"Pressure Sensor", "Speed Sensor"}, false, 5}, // 0 986 435 505
	{"Denso", []string{"######-####"}, []string{"Fuel System", "Alternator", "Starter Motor",
		"Radiator", "HVAC Blower Motor"}, false, 4}, // 294000-0618
	{"Parker", []string{"313#######"}, []string{"Hydraulics", "Hydraulic Filter",
		"Fuel Filter", "Fuel Water Separator"}, false, 4}, // 3139310114
	{"Eaton", []string{"###-####-###"}, []string{"Hydraulic Gear Pump", "Hydraulic Piston Pump",
		"Main Control Valve", "Travel Motor", "Swing Motor", "Transmission"}, false, 3}, // 104-1028-006
	{"Donaldson", []string{"P######"}, filterMaker, false, 5},                                          // P551712
	{"Fleetguard", []string{"{LF|FF|FS|AF|HF}####"}, filterMaker, false, 5},                            // LF9009
	{"Baldwin", []string{"{B|BF|PA|PT}####"}, filterMaker, false, 4},                                   // BF7633
	{"Delco Remy", []string{"8######", "1046####"}, []string{"Alternator", "Starter Motor"}, false, 3}, // 8200262, 10461750
}

// partNumber makes a part number from pattern: '#' is a random digit, '@' a
// random upper-case letter (not I or O), "{a|b}" one of the alternatives, and
// anything else stands for itself.
func partNumber(r *rand.Rand, pattern string) string {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '#':
			b.WriteByte(byte('0' + r.IntN(10)))
		case '@':
			b.WriteByte(letters[r.IntN(len(letters))])
		case '{':
			end := i + strings.IndexByte(pattern[i:], '}')
			b.WriteString(pick(r, strings.Split(pattern[i+1:end], "|")))
			i = end
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// part is one catalog entry: a maker's part number, what it is, what it
// fits and its new list price.
type part struct {
	brand   *brand
	number  string
	kind    *partType
	fits    machine
	listUSD int
}

// knownParts open the catalog, so that well-known numbers are listed by
// several sellers and can be looked up in a demo.
var knownParts = []struct{ brand, number, kind string }{
	{"Caterpillar", "1R-0750", "Fuel Filter"},
	{"Caterpillar", "1R-1808", "Oil Filter"},
	{"John Deere", "RE504836", "Oil Filter"},
	{"Cummins", "3979089", "Water Pump"},
	{"Bosch", "0 986 435 505", "Fuel Injector"},
	{"Komatsu", "708-2L-00300", "Main Hydraulic Pump"},
	{"Fleetguard", "LF9009", "Oil Filter"},
	{"Donaldson", "P551712", "Fuel Filter"},
}

// popularParts is how many parts at the head of the catalog are listed far
// more often than the rest.
const popularParts = 60

// makeCatalog returns the parts listings are drawn from: knownParts first,
// then random parts of the brands, each with a distinct part number.
func makeCatalog(r *rand.Rand) []*part {
	seen := map[string]bool{}
	var catalog []*part
	for _, k := range knownParts {
		b := brandNamed(k.brand)
		p := newPart(r, b, partTypeNamed(k.kind))
		p.number = k.number
		seen[p.number] = true
		catalog = append(catalog, p)
	}
	for len(catalog) < catalogSize {
		b := pickBrand(r)
		p := newPart(r, b, pickPartType(r, b))
		p.number = partNumber(r, pick(r, b.patterns))
		if seen[p.number] {
			continue
		}
		seen[p.number] = true
		catalog = append(catalog, p)
	}
	return catalog
}

// newPart returns a part of kind made by b, without a number yet.
func newPart(r *rand.Rand, b *brand, kind *partType) *part {
	return &part{
		brand:   b,
		kind:    kind,
		fits:    pickMachine(r, b, kind),
		listUSD: between(r, kind.minUSD, kind.maxUSD),
	}
}

// pickBrand returns a brand, the common ones more often.
func pickBrand(r *rand.Rand) *brand {
	total := 0
	for _, b := range brands {
		total += b.weight
	}
	n := r.IntN(total)
	for _, b := range brands {
		if n < b.weight {
			return b
		}
		n -= b.weight
	}
	return brands[0]
}

// pickBrands returns the two to four brands a seller specialises in.
func pickBrands(r *rand.Rand) []*brand {
	n := between(r, 2, 4)
	var out []*brand
	for len(out) < n {
		b := pickBrand(r)
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// pickPartType returns a kind of part that b makes.
func pickPartType(r *rand.Rand, b *brand) *partType {
	var kinds []*partType
	for i, k := range partTypes {
		if slices.Contains(b.makes, k.category) || slices.Contains(b.makes, k.name) {
			kinds = append(kinds, &partTypes[i])
		}
	}
	return pick(r, kinds)
}

// pickMachine returns a machine a part of kind made by b fits: one of b's
// own for makers of machines and engines, any for makers of components.
func pickMachine(r *rand.Rand, b *brand, kind *partType) machine {
	var fits []machine
	for _, m := range machines {
		if (!b.oem || m.brand == b.name) && suits(kind, m) {
			fits = append(fits, m)
		}
	}
	return pick(r, fits)
}

// suits reports whether a part of kind can fit m: only engine parts fit a
// bare engine, and only tracked machines have an undercarriage.
func suits(kind *partType, m machine) bool {
	switch {
	case kind.category == "Undercarriage":
		return slices.Contains([]string{"excavator", "dozer", "mini excavator", "track loader"}, m.kind)
	case m.kind == "engine":
		return slices.Contains(engineMaker, kind.category) || slices.Contains(engineMaker, kind.name)
	default:
		return true
	}
}

// brandNamed returns the brand called name.
func brandNamed(name string) *brand {
	for _, b := range brands {
		if b.name == name {
			return b
		}
	}
	panic("seed: unknown brand " + name)
}

// partTypeNamed returns the part type called name.
func partTypeNamed(name string) *partType {
	for i := range partTypes {
		if strings.EqualFold(partTypes[i].name, name) {
			return &partTypes[i]
		}
	}
	panic(fmt.Sprintf("seed: unknown part type %q", name))
}
