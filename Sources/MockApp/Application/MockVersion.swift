public enum MockVersion {
    /// The mock's own version, sent on every response as `X-Mock-Version`.
    public static let current = "0.1.0"
    /// The API version this mock emulates.
    public static let apiVersion = "v1"
}
