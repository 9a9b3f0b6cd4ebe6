import Foundation

/// The attachment questionnaire: 18 items of the Experiences in Close Relationships –
/// Revised (Fraley, Waller & Brennan 2000), 9 for each of its two subscales, answered on
/// 1 (strongly disagree) to 7 (strongly agree). Served by the gateway
/// (`GET /v1/assessments/attachment`) and scored by the profile service; the order of the
/// items is the order of the answers.
public enum AttachmentQuestionnaire {
    public enum Subscale: String, Codable, Sendable, CaseIterable {
        /// Worry about rejection and abandonment.
        case anxiety
        /// Discomfort with closeness and depending on others.
        case avoidance
    }

    public struct Item: Codable, Sendable, Equatable {
        /// 1 to 18: the position of the item's answer.
        public var number: Int
        public var text: String
        public var subscale: Subscale
        /// Agreeing shows less of the subscale: the answer counts as 8 minus itself.
        public var reverseKeyed: Bool
    }

    public static let scale = 1...7
    public static let scaleLabels = [
        "strongly disagree", "disagree", "slightly disagree", "neither", "slightly agree", "agree", "strongly agree",
    ]

    private static let texts: [(String, Subscale, Bool)] = [
        ("I'm afraid that I will lose my partner's love.", .anxiety, false),
        ("I prefer not to show a partner how I feel deep down.", .avoidance, false),
        ("I often worry that my partner will not want to stay with me.", .anxiety, false),
        ("I feel comfortable sharing my private thoughts and feelings with my partner.", .avoidance, true),
        ("I often worry that my partner doesn't really love me.", .anxiety, false),
        ("I find it difficult to allow myself to depend on romantic partners.", .avoidance, false),
        ("I worry that romantic partners won't care about me as much as I care about them.", .anxiety, false),
        ("I am very comfortable being close to romantic partners.", .avoidance, true),
        ("I rarely worry about my partner leaving me.", .anxiety, true),
        ("I don't feel comfortable opening up to romantic partners.", .avoidance, false),
        ("I often wish that my partner's feelings for me were as strong as my feelings for them.", .anxiety, false),
        ("I prefer not to be too close to romantic partners.", .avoidance, false),
        (
            "When my partner is out of sight, I worry that they might become interested in someone else.", .anxiety,
            false
        ),
        ("I get uncomfortable when a romantic partner wants to be very close.", .avoidance, false),
        ("I do not often worry about being abandoned.", .anxiety, true),
        ("It helps to turn to my romantic partner in times of need.", .avoidance, true),
        ("My romantic partner makes me doubt myself.", .anxiety, false),
        ("I find it easy to depend on romantic partners.", .avoidance, true),
    ]

    public static let items: [Item] = texts.enumerated().map { index, item in
        Item(number: index + 1, text: item.0, subscale: item.1, reverseKeyed: item.2)
    }
}

/// `GET /v1/assessments/attachment`.
public struct AttachmentQuestionnaireDocument: Codable, Sendable, Equatable {
    public var items: [AttachmentQuestionnaire.Item]
    public var scaleMin: Int
    public var scaleMax: Int
    public var scaleLabels: [String]

    public static let current = AttachmentQuestionnaireDocument(
        items: AttachmentQuestionnaire.items, scaleMin: AttachmentQuestionnaire.scale.lowerBound,
        scaleMax: AttachmentQuestionnaire.scale.upperBound, scaleLabels: AttachmentQuestionnaire.scaleLabels)
}

/// The four attachment styles of the two-dimensional model, by which subscale means are 4
/// or more.
public enum AttachmentStyle: String, Codable, Sendable, CaseIterable {
    case secure, anxious, avoidant, fearful
}
