import Contracts
import Foundation

/// Scores the attachment questionnaire (`AttachmentQuestionnaire`), without I/O.
///
/// Each subscale's score is the mean of its 9 answers, a reverse-keyed answer counting as
/// 8 minus itself. The style follows the two-dimensional model with the scale's midpoint,
/// 4, as the line: secure (both below 4), anxious (anxiety 4 or more only), avoidant
/// (avoidance 4 or more only), fearful (both 4 or more).
public enum AttachmentScoring {
    public struct Score: Sendable, Equatable {
        public var anxiety: Double
        public var avoidance: Double
        public var style: AttachmentStyle
        public var explanation: String
    }

    public static let threshold = 4.0

    public static func score(_ answers: [Int]) -> Result<Score, RequestFailed> {
        let items = AttachmentQuestionnaire.items
        var errors: [FieldError] = []
        if answers.count != items.count {
            errors.append(
                FieldError(field: "answers", message: "must hold exactly \(items.count) answers, one per item"))
        } else if let (index, bad) = answers.enumerated().first(where: {
            !AttachmentQuestionnaire.scale.contains($0.element)
        }) {
            errors.append(
                FieldError(
                    field: "answers",
                    message:
                        "answer \(index + 1) is \(bad): each must be from \(AttachmentQuestionnaire.scale.lowerBound) to \(AttachmentQuestionnaire.scale.upperBound)"
                ))
        }
        guard errors.isEmpty else {
            return .failure(
                RequestFailed(code: .validationFailed, detail: "the answers are not valid", fieldErrors: errors))
        }
        var sums: [AttachmentQuestionnaire.Subscale: Int] = [:]
        var counts: [AttachmentQuestionnaire.Subscale: Int] = [:]
        for (item, answer) in zip(items, answers) {
            let keyed = item.reverseKeyed ? 8 - answer : answer
            sums[item.subscale, default: 0] += keyed
            counts[item.subscale, default: 0] += 1
        }
        func mean(_ subscale: AttachmentQuestionnaire.Subscale) -> Double {
            // Rounded to two decimals: a mean of 9 integers is a multiple of 1/9.
            let value = Double(sums[subscale, default: 0]) / Double(max(1, counts[subscale, default: 0]))
            return (value * 100).rounded() / 100
        }
        let anxiety = mean(.anxiety)
        let avoidance = mean(.avoidance)
        let style = style(anxiety: anxiety, avoidance: avoidance)
        return .success(
            Score(anxiety: anxiety, avoidance: avoidance, style: style, explanation: explanation(of: style)))
    }

    public static func style(anxiety: Double, avoidance: Double) -> AttachmentStyle {
        switch (anxiety >= threshold, avoidance >= threshold) {
        case (false, false): .secure
        case (true, false): .anxious
        case (false, true): .avoidant
        case (true, true): .fearful
        }
    }

    public static func explanation(of style: AttachmentStyle) -> String {
        switch style {
        case .secure:
            "You are mostly at ease with closeness and with depending on a partner, and you do not often worry "
                + "about being left. You tend to say what you need and trust others to meet you halfway."
        case .anxious:
            "You value closeness and may worry about whether a partner cares as much as you do. Clear, steady "
                + "reassurance helps you, and naming your needs early keeps worry from growing."
        case .avoidant:
            "You value your independence and can feel crowded when a partner wants a lot of closeness. You may "
                + "open up slowly; a partner who gives you room often earns your trust."
        case .fearful:
            "You want closeness but can also find it unsettling, and you may worry about being hurt. Going at "
                + "your own pace, with a patient partner, tends to help."
        }
    }
}
