"""What the demo is made of: accounts, how hard each device and hiding spot is, names, places, regions."""
from __future__ import annotations

from ..auth.passwords import DEMO_PASSWORD  # noqa: F401  (one definition: the policy refuses it)

DEMO_DOMAIN = "demo.example.org"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
FUNDER_EMAIL = f"funder@{DEMO_DOMAIN}"
SESSION_CHUNK = 2000  # sessions per batch: their hides (~13,000 rows) go in one executemany
SCALE_AGENCIES = 62
SCALE_YEARS = 5
MEAN_HIDES_PER_SESSION = 6.5

# ---------------------------------------------------------------------------------------------
# What makes a hide hard. Names are the default vocabulary; terms an installation adds get the
# neutral defaults. Probabilities are the chance a certified dog finds a known hide in the open.
# ---------------------------------------------------------------------------------------------
# name: (find probability, how often trained, size 0 tiny … 3 large)
DEVICES = {
    "microSD card": (0.90, 14, 0), "SIM card": (0.88, 8, 0), "SD card": (0.92, 8, 0),
    "USB drive": (0.95, 16, 1), "Smartwatch": (0.94, 4, 1), "SSD": (0.95, 5, 1),
    "Phone": (0.98, 14, 2), "Camera": (0.96, 3, 2), "Hard drive": (0.97, 6, 2), "CD/DVD": (0.91, 2, 2),
    "Tablet": (0.98, 5, 3), "Laptop": (0.99, 5, 3), "Game console": (0.98, 2, 3), "Router": (0.97, 2, 3),
}
DEFAULT_DEVICE = (0.94, 2, 2)
# name: (change in find probability, how often used, largest device size it takes)
SPOTS = {
    "Drawer": (+0.03, 10, 3), "Furniture": (0.0, 10, 3), "Clothing": (+0.01, 7, 2),
    "Bedding": (0.0, 6, 3), "Book": (-0.02, 7, 2), "Container": (0.0, 7, 3),
    "Appliance": (-0.05, 5, 3), "Toy": (-0.02, 4, 2), "Vehicle": (-0.05, 6, 3),
    "Ceiling tile": (-0.07, 5, 3), "Light fixture": (-0.08, 4, 1), "Electrical outlet": (-0.12, 5, 1),
    "Wall cavity": (-0.10, 4, 2), "Floorboard": (-0.06, 4, 2), "Hollowed coin": (-0.06, 2, 0),
    "Buried": (-0.12, 3, 2),
}
DEFAULT_SPOT = (-0.03, 2, 3)
# Environments where only some spots make sense.
ENVIRONMENT_SPOTS = {"Vehicle": {"Vehicle", "Container", "Clothing", "Toy"},
                     "Outdoor": {"Buried", "Container", "Vehicle", "Clothing"}}
ENVIRONMENTS = {"Residence": 40, "Office": 16, "Vehicle": 12, "Outdoor": 6, "Warehouse": 8,
                "School": 6, "Storage unit": 6, "Retail": 6}
HEIGHTS = (("floor", 25, 0.0), ("low", 30, 0.01), ("mid", 25, 0.0), ("high", 15, -0.03),
           ("overhead", 5, -0.08))
CONCEALMENTS = (("open", 15, +0.02), ("concealed", 65, 0.0), ("layered", 20, -0.05))
AID_SET_MINUTES = (5, 10, 15, 20, 30, 30, 45, 60, 60, 90, 120, 240, 1440)
FALSE_ALERT_PLACES = ("Bedroom closet", "Kitchen cabinet", "Desk drawer", "Glovebox", "HVAC vent",
                      "Nightstand", "Under the sink", "Bookshelf", "Couch cushion", "Tool bench",
                      "Trunk liner", "Filing cabinet")
FALSE_ALERT_NOTES = (None, None, "Residual odor from an earlier placement suspected.",
                     "Handler may have cued; rerun blind next session.",
                     "Alerted on a TV remote (batteries).", "Alerted on a charging cable.",
                     "Ran out of the search pattern; reset and re-searched.")
SESSION_NOTES = (None, None, None, None, "Good pace, thorough detail work.",
                 "Distracted by food odor in the kitchen; refocused.", "Worked well off leash.",
                 "Hot day: shortened the session and watered often.",
                 "Slow on the high hides; add more elevated placements.",
                 "Strong final response on every find.", "New building for the dog: settled quickly.")
DEPLOYMENT_DEVICES = {"Phone": 22, "USB drive": 20, "microSD card": 14, "SD card": 10,
                      "Hard drive": 10, "SIM card": 6, "Laptop": 4, "Tablet": 4, "SSD": 5,
                      "Camera": 2, "Smartwatch": 2, "CD/DVD": 1}
LOCATION_TYPES = {"Residence": 60, "Business": 8, "Vehicle": 14, "Storage unit": 5, "Outdoor": 3,
                  "Jail / prison": 4, "Hotel room": 6}
DEPLOYMENT_NOTES = (None, None, "Dog alerted on a dresser drawer; thumb drive taped underneath.",
                    "Search team had cleared the bedroom; dog found a microSD in a sock.",
                    "Two rooms searched; suspect had a second phone behind the dryer.",
                    "Consent search of the vehicle; SIM card in the sun visor.",
                    "Probation compliance check; nothing found, dog worked well.",
                    "Hot, cluttered residence: dog rested twice.")
EVALUATORS = ("R. Dalton (NAPWDA)", "M. Fuentes", "K. Okafor", "S. Lindqvist", "T. Brennan",
              "J. Whitaker", "A. Castillo")
BREEDS = {"Labrador Retriever": 55, "English Springer Spaniel": 15, "Golden Retriever": 8,
          "Labrador mix": 7, "English Cocker Spaniel": 5, "Belgian Malinois": 3,
          "German Shorthaired Pointer": 3, "Vizsla": 2, "Chesapeake Bay Retriever": 2}
DOG_NAMES = ("Bella", "Ruger", "Nova", "Maverick", "Josie", "Bear", "Piper", "Dexter", "Hazel",
             "Ozzy", "Willow", "Tilly", "Scout", "Ranger", "Daisy", "Boomer", "Molly", "Jax",
             "Sadie", "Tucker", "Luna", "Cooper", "Remi", "Gunner", "Millie", "Bentley", "Rosie",
             "Diesel", "Lucy", "Koda", "Penny", "Rocco", "Maggie", "Bruno", "Zoey", "Hank",
             "Ellie", "Duke", "Ginger", "Axel", "Poppy", "Murphy", "Abby", "Zeus", "Lola",
             "Thor", "Ruby", "Blue", "Sage", "Ace", "Stella", "Chase", "Roxy", "Finn", "Lexi",
             "Sarge", "Annie", "Tank", "Honey", "Bolt", "Kona", "Moose", "Dixie", "Ziggy",
             "Callie", "Maddox", "Winnie", "Sully", "Pearl", "Archer", "Olive", "Cash", "Juno",
             "Loki", "Birdie", "Riggs", "Maple", "Colt", "Ivy", "Hunter", "Gracie", "Rebel")
FIRST_NAMES = ("James", "Maria", "Robert", "Jennifer", "Michael", "Linda", "David", "Patricia",
               "Daniel", "Elizabeth", "Carlos", "Susan", "Kevin", "Jessica", "Brian", "Sarah",
               "Jason", "Karen", "Ryan", "Nancy", "Eric", "Lisa", "Jacob", "Angela", "Gary",
               "Ashley", "Tyler", "Michelle", "Aaron", "Amanda", "Jose", "Melissa", "Adam",
               "Stephanie", "Nathan", "Rebecca", "Derek", "Laura", "Trevor", "Heather", "Luis",
               "Nicole", "Shawn", "Rachel", "Marcus", "Kayla", "Dustin", "Tiffany", "Wesley",
               "Danielle", "Corey", "Brittany", "Travis", "Erin", "Andre", "Monica", "Troy", "Dana")
LAST_NAMES = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
              "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas",
              "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
              "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
              "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
              "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Phillips", "Evans", "Turner",
              "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers",
              "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Kelly", "Howard", "Ward", "Cox",
              "Brooks", "Bennett", "Gray", "Hughes", "Price", "Sanders", "Myers", "Long", "Ross")
TRAINING_PLACES = {
    "Residence": ("Training house", "Volunteer residence", "Vacant rental (donated)"),
    "Office": ("Agency headquarters", "Courthouse annex (after hours)", "County office building"),
    "Vehicle": ("Fleet yard", "Impound lot", "Dealership lot (after hours)"),
    "Outdoor": ("Training field", "County park", "Range property"),
    "Warehouse": ("Public works warehouse", "Evidence warehouse", "Distribution center"),
    "School": ("Elementary school (summer break)", "Community college", "Vacant school"),
    "Storage unit": ("Self-storage facility", "Agency storage units"),
    "Retail": ("Thrift store (after hours)", "Electronics store (after hours)"),
}
STATES = (  # (region, time zone, mean °C, seasonal swing °C)
    ("Alabama", "America/Chicago", 18, 9), ("Alaska", "America/Anchorage", 2, 12),
    ("Arizona", "America/Phoenix", 23, 10), ("Arkansas", "America/Chicago", 16, 11),
    ("California", "America/Los_Angeles", 16, 6), ("Colorado", "America/Denver", 10, 11),
    ("Connecticut", "America/New_York", 10, 12), ("Delaware", "America/New_York", 13, 11),
    ("Florida", "America/New_York", 22, 6), ("Georgia", "America/New_York", 18, 9),
    ("Hawaii", "Pacific/Honolulu", 25, 2), ("Idaho", "America/Boise", 10, 12),
    ("Illinois", "America/Chicago", 11, 14), ("Indiana", "America/Indiana/Indianapolis", 12, 13),
    ("Iowa", "America/Chicago", 10, 15), ("Kansas", "America/Chicago", 13, 14),
    ("Kentucky", "America/New_York", 14, 11), ("Louisiana", "America/Chicago", 20, 8),
    ("Maine", "America/New_York", 7, 13), ("Maryland", "America/New_York", 13, 11),
    ("Massachusetts", "America/New_York", 10, 12), ("Michigan", "America/Detroit", 9, 13),
    ("Minnesota", "America/Chicago", 7, 16), ("Mississippi", "America/Chicago", 18, 9),
    ("Missouri", "America/Chicago", 13, 13), ("Montana", "America/Denver", 7, 13),
    ("Nebraska", "America/Chicago", 10, 14), ("Nevada", "America/Los_Angeles", 17, 11),
    ("New Hampshire", "America/New_York", 8, 13), ("New Jersey", "America/New_York", 12, 11),
    ("New Mexico", "America/Denver", 14, 10), ("New York", "America/New_York", 9, 13),
    ("North Carolina", "America/New_York", 15, 10), ("North Dakota", "America/Chicago", 5, 17),
    ("Ohio", "America/New_York", 11, 12), ("Oklahoma", "America/Chicago", 16, 12),
    ("Oregon", "America/Los_Angeles", 11, 8), ("Pennsylvania", "America/New_York", 11, 12),
    ("Rhode Island", "America/New_York", 11, 11), ("South Carolina", "America/New_York", 18, 9),
    ("South Dakota", "America/Chicago", 8, 15), ("Tennessee", "America/Chicago", 15, 11),
    ("Texas", "America/Chicago", 20, 9), ("Utah", "America/Denver", 11, 12),
    ("Vermont", "America/New_York", 7, 13), ("Virginia", "America/New_York", 14, 10),
    ("Washington", "America/Los_Angeles", 10, 8), ("West Virginia", "America/New_York", 12, 11),
    ("Wisconsin", "America/Chicago", 8, 15), ("Wyoming", "America/Denver", 7, 12),
    ("Los Angeles Regional", "America/Los_Angeles", 18, 5),
    ("San Diego Regional", "America/Los_Angeles", 18, 4),
    ("Sacramento Valley", "America/Los_Angeles", 16, 8), ("Dallas Regional", "America/Chicago", 19, 10),
    ("Houston Metro", "America/Chicago", 21, 8), ("New York City", "America/New_York", 13, 11),
    ("Cook County", "America/Chicago", 10, 14), ("Central Florida", "America/New_York", 23, 5),
    ("South Florida", "America/New_York", 25, 3), ("Puerto Rico", "America/Puerto_Rico", 26, 2),
    ("District of Columbia", "America/New_York", 14, 11),
    ("Northern Virginia", "America/New_York", 13, 11),
)
