import { describe, expect, it } from "vitest"
import { redactSecrets, redactUrl } from "../../../src/config/resolve.js"

describe("redactSecrets", () => {
  it("masks the password of every URL in a text and keeps the words around it", () => {
    expect(redactSecrets("source.url: must be a postgres:// or postgresql:// URL, got mysql://root:s3cret@db:3306/x")).toBe(
      "source.url: must be a postgres:// or postgresql:// URL, got mysql://root:***@db:3306/x"
    )
    expect(redactSecrets("a postgres://u:p1@h/a and https://v:p2@o:9200 b")).toBe("a postgres://u:***@h/a and https://v:***@o:9200 b")
  })

  it("masks an unencoded @ inside a password, and password query parameters", () => {
    expect(redactSecrets("postgres://u:p@ss@h/db")).toBe("postgres://u:***@h/db")
    expect(redactSecrets("postgres://h/db?sslmode=require&password=zz&x=1")).toBe("postgres://h/db?sslmode=require&password=***&x=1")
  })

  it("leaves text without secrets alone", () => {
    const text = "plain https://example.com/path and http://user@host, 10:30 at home"
    expect(redactSecrets(text)).toBe(text)
  })

  it("redactUrl masks an unparsable URL the same way", () => {
    expect(redactUrl("postgres://u:p w@h")).not.toContain("p w")
  })
})
