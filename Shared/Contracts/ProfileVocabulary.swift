import Foundation

/// The closed vocabularies of a profile: what the profile service accepts, what the
/// gateway documents and lists (`GET /v1/vocabulary`), and what matching scores on. A tag
/// is never renamed or removed (stored profiles and events hold it); new ones are added.
public enum ProfileVocabulary {
    /// Interest tags, grouped for display; a profile lists 1 to `ProfileRules.interestCount` of them.
    public static let interestGroups: [(group: String, tags: [String])] = [
        (
            "outdoors",
            [
                "hiking", "climbing", "camping", "cycling", "running", "surfing", "skiing", "snowboarding",
                "sailing", "fishing", "gardening", "birdwatching",
            ]
        ),
        (
            "sport",
            [
                "yoga", "pilates", "gym", "swimming", "football", "basketball", "tennis", "volleyball", "boxing",
                "martial-arts", "dancing", "golf",
            ]
        ),
        (
            "arts",
            [
                "painting", "drawing", "photography", "writing", "poetry", "theatre", "museums", "design",
                "crafts", "pottery", "knitting", "architecture",
            ]
        ),
        (
            "music",
            [
                "live-music", "concerts", "festivals", "classical-music", "jazz", "hip-hop", "rock", "electronic",
                "singing", "playing-an-instrument", "karaoke", "vinyl",
            ]
        ),
        (
            "food-and-drink",
            [
                "cooking", "baking", "coffee", "tea", "wine", "craft-beer", "cocktails", "vegetarian", "vegan",
                "street-food", "fine-dining", "brunch",
            ]
        ),
        (
            "screen-and-games",
            [
                "movies", "series", "anime", "documentaries", "video-games", "board-games", "tabletop-rpg",
                "puzzles", "chess", "podcasts",
            ]
        ),
        (
            "mind",
            [
                "reading", "science", "history", "philosophy", "psychology", "languages", "astronomy",
                "technology", "politics", "economics",
            ]
        ),
        (
            "life",
            [
                "travel", "road-trips", "volunteering", "activism", "spirituality", "meditation", "pets", "dogs",
                "cats", "parenting", "fashion", "thrifting", "diy", "cars", "motorcycles", "nightlife",
            ]
        ),
    ]

    /// Every interest tag, in display order.
    public static let interests: [String] = interestGroups.flatMap(\.tags)
    public static let interestSet = Set(interests)

    /// The value statements a profile ranks, most important first: each exactly once.
    public static let values: [(id: String, statement: String)] = [
        ("family", "Family comes first"),
        ("career", "Building a career I'm proud of"),
        ("faith", "Faith or spirituality guides me"),
        ("adventure", "Adventure and new experiences"),
        ("stability", "A calm, stable home life"),
        ("community", "Giving back to my community"),
        ("growth", "Growing and learning every year"),
        ("health", "Looking after my health"),
    ]
    public static let valueIDs: [String] = values.map(\.id)

    /// What someone is looking for.
    public static let relationshipIntents = ["long-term", "short-term", "friendship", "not-sure"]

    /// Spoken languages as ISO 639-1 codes.
    public static let languages: [String] = """
        aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz \
        ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii \
        ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi \
        mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw \
        sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk \
        ur uz ve vi vo wa wo xh yi yo za zh zu
        """.split(separator: " ").map(String.init)
    public static let languageSet = Set(languages)

}

/// `GET /v1/vocabulary`: the vocabularies a client builds its profile editor from.
public struct VocabularyDocument: Codable, Sendable, Equatable {
    public struct InterestGroup: Codable, Sendable, Equatable {
        public var group: String
        public var tags: [String]
    }
    public struct ValueStatement: Codable, Sendable, Equatable {
        public var id: String
        public var statement: String
    }

    public var interests: [InterestGroup]
    public var values: [ValueStatement]
    public var relationshipIntents: [String]
    public var genders: [String]
    public var languages: [String]

    public static let current = VocabularyDocument(
        interests: ProfileVocabulary.interestGroups.map { InterestGroup(group: $0.group, tags: $0.tags) },
        values: ProfileVocabulary.values.map { ValueStatement(id: $0.id, statement: $0.statement) },
        relationshipIntents: ProfileVocabulary.relationshipIntents, genders: ProfileRules.genders,
        languages: ProfileVocabulary.languages)
}
